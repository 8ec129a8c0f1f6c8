import FoundationEssentials
import HuskCore
import Logging

/// The OS packages an image holds (DESIGN.md §5), read from its package
/// databases when it is converted and kept in `/.husk/packages.json`, so an
/// audit never needs to unpack an image.
public struct PackageInventory: Codable, Equatable, Sendable {
    public struct Package: Codable, Hashable, Sendable, Comparable {
        /// `deb`, `apk`, `rpm` (as in package URLs).
        public var type: String
        public var name: String
        public var version: String
        public var architecture: String?
        /// The source package (Debian, RPM) or origin (Alpine), and its version.
        public var source: String?
        public var sourceVersion: String?

        public init(type: String, name: String, version: String, architecture: String? = nil,
                    source: String? = nil, sourceVersion: String? = nil) {
            self.type = type
            self.name = name
            self.version = version
            self.architecture = architecture
            self.source = source
            self.sourceVersion = sourceVersion
        }

        public static func < (a: Package, b: Package) -> Bool {
            (a.type, a.name, a.architecture ?? "", a.version, a.source ?? "")
                < (b.type, b.name, b.architecture ?? "", b.version, b.source ?? "")
        }
    }

    /// The distribution, from os-release (`debian`, `12`): names package
    /// URLs (`pkg:deb/debian/...`) and advisories.
    public struct OperatingSystem: Codable, Equatable, Sendable {
        public var id: String
        public var versionID: String?
        public var prettyName: String?
    }

    /// A package database found in the image but not read (damaged, or no
    /// reader for its format here), and why: an inventory that knows it is
    /// incomplete says so, and `husk audit` reports it.
    public struct UnreadDatabase: Codable, Equatable, Sendable {
        public var database: String
        public var reason: String
    }

    /// Which databases were read (`var/lib/dpkg/status`, ...).
    public var databases: [String]
    public var os: OperatingSystem?
    public var packages: [Package]
    /// Absent (not empty) when every database was read: the inventories of
    /// images converted before this field existed keep their bytes.
    public var unread: [UnreadDatabase]?

    public init(databases: [String], os: OperatingSystem? = nil, packages: [Package], unread: [UnreadDatabase]? = nil) {
        self.databases = databases
        self.os = os
        self.packages = packages
        self.unread = unread
    }

    /// `/.husk/packages.json`.
    public static let fileName = "packages.json"

    /// The package databases read, relative to the image root: Debian and
    /// Ubuntu's dpkg status (and distroless images' status.d/ files), Alpine's
    /// apk database, the RPM database (`RPMDatabase`).
    public static func wants(_ path: String) -> Bool {
        path == dpkgStatus || path == apkInstalled || osRelease.contains(path)
            || (path.hasPrefix(dpkgStatusDirectory) && !path.hasSuffix(".md5sums"))
            || RPMDatabase.wants(path)
    }

    /// etc/os-release is often a symlink to the other: a symlink's target is
    /// not file data, so both are kept and etc/ wins.
    static let osRelease = ["etc/os-release", "usr/lib/os-release"]

    static let dpkgStatus = "var/lib/dpkg/status"
    static let dpkgStatusDirectory = "var/lib/dpkg/status.d/"
    static let apkInstalled = "lib/apk/db/installed"

    /// The inventory of the databases in `files` (path → content).
    public init(files: [String: [UInt8]]) {
        var packages: [Package] = []
        var databases: [String] = []
        let os = Self.osRelease.lazy.compactMap { files[$0] }.first.flatMap {
            Self.operatingSystem(String(decoding: $0, as: UTF8.self))
        }
        for (path, bytes) in files.sorted(by: { $0.key < $1.key }) {
            let text = String(decoding: bytes, as: UTF8.self)
            if path == Self.apkInstalled {
                packages += Self.apkPackages(text)
            } else if path == Self.dpkgStatus || path.hasPrefix(Self.dpkgStatusDirectory) {
                packages += Self.dpkgPackages(text)
            } else {
                continue
            }
            databases.append(path)
        }
        var unread: [UnreadDatabase] = []
        if let rpm = RPMDatabase.find(in: files) {
            do {
                packages += try RPMDatabase.packages(at: rpm.path, backend: rpm.backend, files: files)
                databases.append(rpm.path)
            } catch {
                let reason = (error as? HuskError)?.message ?? "\(error)"
                HuskLog.logger.warning("the package inventory leaves out \(rpm.path): \(reason)")
                unread.append(UnreadDatabase(database: rpm.path, reason: reason))
            }
        }
        // A distroless status.d/ file may repeat what the status file says.
        self.init(databases: databases, os: os, packages: Array(Set(packages)).sorted(),
                  unread: unread.isEmpty ? nil : unread)
    }

    /// `ID=debian`, `VERSION_ID="12"`, `PRETTY_NAME="..."` (quotes optional).
    static func operatingSystem(_ text: String) -> OperatingSystem? {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            var value = line[line.index(after: equals)...].trimming(" \t")
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            fields[String(line[..<equals])] = value
        }
        guard let id = fields["ID"], !id.isEmpty else { return nil }
        return OperatingSystem(id: id, versionID: fields["VERSION_ID"], prettyName: fields["PRETTY_NAME"])
    }

    /// dpkg's status: RFC 822-style paragraphs. Only packages whose Status
    /// says they are installed count (not removed ones with config files).
    static func dpkgPackages(_ text: String) -> [Package] {
        paragraphs(text, separator: ":").compactMap { fields in
            guard let name = fields["Package"], let version = fields["Version"] else { return nil }
            if let status = fields["Status"], status.split(separator: " ").last != "installed" { return nil }
            var source = name, sourceVersion = version
            if let field = fields["Source"] {
                // "openssl" or "openssl (3.0.11-1~deb12u2)"
                let parts = field.split(separator: " ", maxSplits: 1)
                source = String(parts[0])
                if parts.count == 2 { sourceVersion = parts[1].trimming("() ") }
            }
            return Package(type: "deb", name: name, version: version, architecture: fields["Architecture"],
                           source: source, sourceVersion: sourceVersion)
        }
    }

    /// apk's installed database: paragraphs of `K:value` lines.
    static func apkPackages(_ text: String) -> [Package] {
        paragraphs(text, separator: ":", keyLength: 1).compactMap { fields in
            guard let name = fields["P"], let version = fields["V"] else { return nil }
            return Package(type: "apk", name: name, version: version, architecture: fields["A"],
                           source: fields["o"] ?? name, sourceVersion: version)
        }
    }

    /// Blank-line separated paragraphs of `Key<sep>value` lines; a line
    /// starting with a space continues the previous field (dpkg). With
    /// `keyLength`, keys are exactly that long (apk's one-letter keys).
    static func paragraphs(_ text: String, separator: Character, keyLength: Int? = nil) -> [[String: String]] {
        var result: [[String: String]] = []
        var current: [String: String] = [:]
        var last: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimming(" \t").isEmpty {
                if !current.isEmpty { result.append(current) }
                current = [:]
                last = nil
                continue
            }
            if line.first == " " || line.first == "\t" {
                if let key = last { current[key, default: ""] += "\n" + line.trimming(" \t") }
                continue
            }
            guard let index = line.firstIndex(of: separator) else { continue }
            let key = String(line[..<index])
            if let keyLength, key.count != keyLength { continue }
            // The first value wins: a repeated key is malformed, not an override.
            if current[key] == nil {
                current[key] = line[line.index(after: index)...].trimming(" \t")
            }
            last = key
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
