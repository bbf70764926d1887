//! Builds the Zig core of Velos: the static library `libvelos_core.a` (C ABI, linked into the Rust `velos`
//! binary by `crates/velos-ffi`), its unit tests, and a compile-and-link check for other targets.
const std = @import("std");
const builtin = @import("builtin");

/// The one Zig version this project builds with (installed by `make` into `.tools/`).
const zig_version_pinned = "0.15.2";

comptime {
    if (!std.mem.eql(u8, builtin.zig_version_string, zig_version_pinned)) {
        @compileError("Velos needs Zig " ++ zig_version_pinned ++ ", this is " ++ builtin.zig_version_string ++
            ": run `make tools` (installs it into .tools/) or set ZIG to a " ++ zig_version_pinned ++ " zig");
    }
}

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});

    const core_module = coreModule(b, target, optimize);
    const lib = b.addLibrary(.{ .linkage = .static, .name = "velos_core", .root_module = core_module });
    b.installArtifact(lib);
    b.installFile("zig/include/velos_core.h", "include/velos_core.h");

    // Unit tests run from the repository root so they can read the golden frames in schemas/ipc/.
    const tests = b.addTest(.{ .root_module = coreModule(b, target, optimize) });
    const run_tests = b.addRunArtifact(tests);
    run_tests.setCwd(b.path("."));
    const test_step = b.step("test", "Run the Zig core's unit tests");
    test_step.dependOn(&run_tests.step);

    // `zig build fuzz`: the mutation fuzzer of zig/src/fuzz_test.zig alone, run again every time, for as long
    // as VELOS_FUZZ_ITERATIONS says (`make fuzz`). `zig build test` runs it briefly with everything else.
    const fuzz_tests = b.addTest(.{ .root_module = coreModule(b, target, optimize), .filters = &.{"fuzz:"} });
    const run_fuzz = b.addRunArtifact(fuzz_tests);
    run_fuzz.setCwd(b.path("."));
    run_fuzz.has_side_effects = true;
    const fuzz_step = b.step("fuzz", "Fuzz the frame, MessagePack and request decoders (VELOS_FUZZ_ITERATIONS, VELOS_FUZZ_SEED)");
    fuzz_step.dependOn(&run_fuzz.step);

    // `zig build check -Dtarget=aarch64-macos`: compile the library and link the test executable without
    // running them, so a Linux-only call on the kqueue path fails here and not on a Mac.
    const check_step = b.step("check", "Compile the library and link its tests without running them");
    check_step.dependOn(&lib.step);
    check_step.dependOn(&tests.step);
}

fn coreModule(b: *std.Build, target: std.Build.ResolvedTarget, optimize: std.builtin.OptimizeMode) *std.Build.Module {
    return b.createModule(.{
        .root_source_file = b.path("zig/src/root.zig"),
        .target = target,
        .optimize = optimize,
        // libc: a library inside a Rust process must see the real environment and use glibc's memcpy.
        .link_libc = true,
        // Rust links PIE executables.
        .pic = true,
        // Without this a release build fails to link with `undefined symbol: __zig_probe_stack`.
        .stack_check = false,
    });
}
