import FoundationEssentials
import Glibc
import HuskCore

/// The RPM database of an image (Fedora, RHEL and its rebuilds, Amazon
/// Linux, openSUSE), read for the package inventory (DESIGN.md §5).
///
/// The database is binary (SQLite since RPM 4.16, Berkeley DB before), so
/// librpm reads it, never code of ours: `husk-rpmdb`, a small confined
/// program installed with husk, reads a private copy of the image's
/// database files and prints one line per package.
enum RPMDatabase {
    /// Where images keep it: Fedora 36+ and openSUSE under /usr/lib/sysimage
    /// (with var/lib/rpm a symlink to it), everyone else var/lib/rpm. The
    /// first found is read; its files are the only ones captured.
    static let directories = ["usr/lib/sysimage/rpm", "var/lib/rpm"]

    /// The database files by format, in order of preference, and the librpm
    /// backend that reads each (nil: this librpm cannot, as Debian's has no
    /// ndb).
    static let formats: [(file: String, backend: String?)] = [
        ("rpmdb.sqlite", "sqlite"), ("Packages", "bdb_ro"), ("Packages.db", nil),
    ]

    /// The write-ahead log of an SQLite database holds committed changes
    /// until a checkpoint: read with the database when an image has one.
    static let sqliteLog = "rpmdb.sqlite-wal"

    static func wants(_ path: String) -> Bool {
        directories.contains { directory in
            path.hasPrefix(directory + "/")
                && (formats.contains { path == "\(directory)/\($0.file)" } || path == "\(directory)/\(sqliteLog)")
        }
    }

    /// The database `files` (image path → content) hold, if any.
    static func find(in files: [String: [UInt8]]) -> (path: String, backend: String?)? {
        for directory in directories {
            for format in formats where files["\(directory)/\(format.file)"] != nil {
                return ("\(directory)/\(format.file)", format.backend)
            }
        }
        return nil
    }

    /// The packages of the database at `path` among `files`. Throws a
    /// one-line reason when it cannot be read (no reader, damaged).
    static func packages(at path: String, backend: String?, files: [String: [UInt8]]) throws -> [PackageInventory.Package] {
        guard let backend else {
            throw HuskError(.invalidImage, "this librpm cannot read ndb databases (openSUSE's Packages.db)")
        }
        let helper = try HelperProgram.path("husk-rpmdb", variable: "HUSK_RPMDB",
                                            environment: ProcessInfo.processInfo.environment)
        let temporary = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let copy = try FilePath.makeUniqueDirectory(prefix: "\(temporary)/husk-rpmdb-")
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let directory = FilePath.directory(of: path)
        for name in [FilePath.lastComponent(of: path), sqliteLog] {
            guard let bytes = files["\(directory)/\(name)"] else { continue }
            guard FileManager.default.createFile(atPath: "\(copy)/\(name)", contents: Data(bytes),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw HuskError.io(errno, "\(copy)/\(name)", doing: "cannot write")
            }
        }
        let output = try run(helper, arguments: [copy, backend])
        return try output.split(separator: "\n").map { try package(line: String($0)) }
    }

    /// Runs the reader with a bare environment (librpm reads no user's
    /// macros), returns its output or throws its one-line complaint.
    private static func run(_ helper: String, arguments: [String]) throws -> String {
        let process: ChildProcess
        do {
            process = try ChildProcess.run(helper, arguments, environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"],
                                           captureErrors: true)
        } catch {
            throw HuskError(.notFound, "cannot run \(helper): \(error)")
        }
        switch process.termination {
        case .exited(0):
            return String(decoding: process.output, as: UTF8.self)
        case .exited(let status):
            var reason = String(decoding: process.errorOutput, as: UTF8.self)
                .split(separator: "\n").first.map(String.init) ?? ""
            if reason.hasPrefix("husk-rpmdb: ") { reason.removeFirst("husk-rpmdb: ".count) }
            throw HuskError(.invalidImage, reason.isEmpty ? "librpm failed (exit \(status))" : reason)
        case .signaled(let signal):
            throw HuskError(.invalidImage, "librpm was killed by signal \(signal)")
        }
    }

    /// `NAME EPOCH VERSION RELEASE ARCH SOURCERPM`, tab-separated. The
    /// version is rpm's EVR (`2:1.0-3.fc40`, as `rpm -q --qf %{EVR}`); the
    /// source package and its version come from the source rpm's file name.
    static func package(line: String) throws -> PackageInventory.Package {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 6, !fields[0].isEmpty, !fields[2].isEmpty else {
            throw HuskError(.invalidImage, "husk-rpmdb printed an unexpected line")
        }
        let epoch = fields[1].isEmpty ? "" : fields[1] + ":"
        let release = fields[3].isEmpty ? "" : "-" + fields[3]
        let source = sourcePackage(fields[5])
        return PackageInventory.Package(
            type: "rpm", name: fields[0], version: epoch + fields[2] + release,
            architecture: fields[4].isEmpty ? nil : fields[4],
            source: source?.name ?? fields[0], sourceVersion: epoch + (source?.versionRelease ?? fields[2] + release))
    }

    /// `openssl-3.0.7-27.el9.src.rpm` → (openssl, 3.0.7-27.el9): the last
    /// two dash-separated parts are version and release (a name may hold dashes).
    static func sourcePackage(_ file: String) -> (name: String, versionRelease: String)? {
        var base = Substring(file)
        for suffix in [".src.rpm", ".nosrc.rpm"] where base.hasSuffix(suffix) {
            base = base.dropLast(suffix.count)
        }
        guard base.count < file.count,
              let releaseDash = base.lastIndex(of: "-"),
              let versionDash = base[..<releaseDash].lastIndex(of: "-"),
              versionDash > base.startIndex else { return nil }
        return (String(base[..<versionDash]), String(base[base.index(after: versionDash)...]))
    }
}
