#if canImport(Glibc)
import Glibc
#endif

/// Husk's helper programs (`husk-starter`, `husk-rpmdb`) are installed with
/// the `husk` executable: beside it, or in `../libexec/husk/` as packages
/// lay them out. An environment variable may name another copy (tests,
/// development trees).
public enum HelperProgram {
    /// `variable` if set, then beside the running executable, then `../libexec/husk/`.
    public static func path(_ name: String, variable: String, environment: [String: String]) throws -> String {
        if let path = environment[variable], !path.isEmpty {
            guard access(path, X_OK) == 0 else {
                throw HuskError(.notFound, "\(variable)=\(path) is not an executable file")
            }
            return path
        }
        let executable = executablePath()
        let directory = FilePath.directory(of: executable)
        for candidate in ["\(directory)/\(name)", "\(FilePath.directory(of: directory))/libexec/husk/\(name)"]
        where access(candidate, X_OK) == 0 {
            return candidate
        }
        throw HuskError(.notFound, "\(name) not found beside \(executable) or in ../libexec/husk/ (install it with husk, or set \(variable))")
    }

    /// The running executable, from /proc/self/exe.
    public static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "husk" }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
