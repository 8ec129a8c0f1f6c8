// husk-example: converts an OCI image layout into a squashfs image and runs
// a command in it, using only Husk's public library API (README, "Husk as
// a library"). Built with the package; Integration/test-library.sh runs it.
//
//   husk-example OCI-LAYOUT-DIR OUTPUT.sqsh COMMAND [ARG...]
import Glibc
import HuskCore
import HuskOCI
import HuskRuntime
import HuskSquash
import HuskTrust

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    StandardStream.writeError("usage: husk-example OCI-LAYOUT-DIR OUTPUT.sqsh COMMAND [ARG...]\n")
    exit(2)
}
do {
    // 1. Convert: the OCI layout becomes one read-only squashfs file.
    let source = try LocalImageResolver.resolve(try ImageReference(parsing: "oci:" + arguments[1]), platform: nil)
    let converted = try ImageConverter.convert(source, to: arguments[2], options: .standard)

    // 2. Run: typed options, and the command as a child of this process.
    var options = RunOptions()
    options.contain = true  // fresh /tmp and /dev, no home directory
    options.environment = [EnvironmentVariable(name: "GREETING", value: "hello from husk-example")]
    options.resourceLimits = [try ResourceLimit(name: "nofile", soft: "512")]
    let container = try Container(image: converted.outputPath, options: options)
    let status = try container.run(Array(arguments[3...]))
    print("husk-example: \(container.image.name) exited with status \(status)")
    exit(status)
} catch {
    StandardStream.writeError("husk-example: \(error)\n")
    exit(1)
}
