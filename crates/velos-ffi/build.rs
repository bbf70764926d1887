//! Runs `zig build` for the Zig core and links the static library it produces.
//!
//! Zig is found in this order: the `ZIG` environment variable (a program, possibly with arguments such as
//! `python3 -m ziglang`), `zig` on `PATH`, then the project's `.tools/` (where `make tools` installs it).
//! Its version must equal the pin; otherwise the build stops with the exact command that fixes it.
use std::path::{Path, PathBuf};
use std::process::Command;

const ZIG_VERSION_PINNED: &str = "0.15.2";
const INSTALL_HINT: &str = "run `make tools` in the repository root (it runs `python3 -m pip install --target .tools/ziglang-0.15.2 ziglang==0.15.2`), or set ZIG to a Zig 0.15.2 binary";

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("../..").canonicalize().expect("repository root");
    let out_dir = PathBuf::from(env("OUT_DIR"));

    println!("cargo:rerun-if-env-changed=ZIG");
    for path in ["build.zig", "zig/src", "zig/include/velos_core.h"] {
        let full = root.join(path);
        if full.exists() {
            println!("cargo:rerun-if-changed={}", full.display());
        }
    }

    let zig = find_zig(&root);
    let optimize = match env("PROFILE").as_str() {
        "release" => "ReleaseSafe", // ReleaseFast turns an out-of-bounds index into silent garbage
        _ => "Debug",
    };
    let target = zig_target(&env("TARGET"));
    let mut command = zig.command();
    command
        .current_dir(&root)
        .arg("build")
        .arg(format!("-Doptimize={optimize}"))
        .arg(format!("-Dtarget={target}"))
        .arg("--prefix")
        .arg(&out_dir)
        .arg("--cache-dir")
        .arg(out_dir.join("zig-cache"))
        .arg("--global-cache-dir")
        .arg(out_dir.join("zig-global-cache"));
    let status =
        command.status().unwrap_or_else(|error| fail(&format!("could not run {}: {error}", zig.describe())));
    if !status.success() {
        fail(&format!("`{} build` failed ({status}); its errors are printed above", zig.describe()));
    }
    pad_archive(&out_dir.join("lib").join("libvelos_core.a"));
    println!("cargo:rustc-link-search=native={}", out_dir.join("lib").display());
    println!("cargo:rustc-link-lib=static=velos_core");
}

/// Zig 0.15.2's archiver leaves out the padding byte after an odd-sized last member, which the ar format
/// requires (members start at even offsets); rust-lld then refuses the archive for some links ("offset to
/// next archive member past the end of the archive"). An archive of odd length gets its `\n` back.
fn pad_archive(path: &Path) {
    let length = std::fs::metadata(path)
        .unwrap_or_else(|error| fail(&format!("{} is missing after zig build: {error}", path.display())))
        .len();
    if length.is_multiple_of(2) {
        return;
    }
    let padded = std::fs::OpenOptions::new().append(true).open(path).and_then(|mut file| {
        use std::io::Write;
        file.write_all(b"\n")
    });
    if let Err(error) = padded {
        fail(&format!("padding {} to an even length failed: {error}", path.display()));
    }
}

/// A Zig invocation: a program and the arguments that come before ours.
struct Zig {
    program: String,
    leading_args: Vec<String>,
}

impl Zig {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.leading_args);
        command
    }

    fn describe(&self) -> String {
        std::iter::once(self.program.clone())
            .chain(self.leading_args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn version(&self) -> Option<String> {
        let output = self.command().arg("version").output().ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }
}

fn find_zig(root: &Path) -> Zig {
    let mut candidates = Vec::new();
    if let Ok(value) = std::env::var("ZIG") {
        let mut words = value.split_whitespace().map(str::to_string);
        if let Some(program) = words.next() {
            candidates.push(Zig { program, leading_args: words.collect() });
        }
    }
    candidates.push(Zig { program: "zig".into(), leading_args: vec![] });
    let tools = root.join(format!(".tools/ziglang-{ZIG_VERSION_PINNED}/ziglang/zig"));
    candidates.push(Zig { program: tools.display().to_string(), leading_args: vec![] });

    let mut seen = Vec::new();
    for zig in candidates {
        match zig.version() {
            Some(version) if version == ZIG_VERSION_PINNED => return zig,
            Some(version) => seen.push(format!("{} is Zig {version}", zig.describe())),
            None => {}
        }
    }
    let found = if seen.is_empty() { "no zig was found".to_string() } else { seen.join(", ") };
    fail(&format!("Velos needs Zig {ZIG_VERSION_PINNED} and {found}.\nhint: {INSTALL_HINT}"))
}

/// Rust's target triple to Zig's: `x86_64-unknown-linux-gnu` → `x86_64-linux-gnu`. Spelling out the ABI
/// matters: `x86_64-linux` alone means musl and links silently with the wrong ABI.
fn zig_target(rust_target: &str) -> String {
    let parts: Vec<&str> = rust_target.split('-').collect();
    match parts.as_slice() {
        [arch, _vendor, os, abi] => format!("{arch}-{os}-{abi}"),
        [arch, "apple", "darwin"] => format!("{arch}-macos"),
        _ => fail(&format!("unsupported target {rust_target}")),
    }
    .replace("aarch64-apple-darwin", "aarch64-macos")
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("cargo did not set {name}")))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
