fn main() {
    println!("velos {}", velos_ffi::core_version());
}
