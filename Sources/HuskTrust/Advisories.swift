import FoundationEssentials
import HuskCore

/// Security advisories in the OSV format (https://ossf.github.io/osv-schema),
/// as Debian and Ubuntu publish them: which package versions they affect.
/// Only the Debian and Ubuntu ecosystems are compared (dpkg's version order);
/// advisories for other ecosystems are read and ignored.
public struct Advisory: Decodable, Sendable {
    public var id: String
    public var aliases: [String]?
    public var summary: String?
    public var affected: [Affected]?

    public struct Affected: Decodable, Sendable {
        public var package: Package?
        public var ranges: [Range]?
        public var versions: [String]?
    }

    public struct Package: Decodable, Sendable {
        public var ecosystem: String
        public var name: String
    }

    public struct Range: Decodable, Sendable {
        public var type: String
        public var events: [[String: String]]
    }

    /// Every `*.json` file under `directory` (one advisory each, or an array).
    public static func load(directory: String) throws -> [Advisory] {
        guard FilePath.isDirectory(directory), let walker = try? FileManager.default.subpathsOfDirectory(atPath: directory) else {
            throw HuskError(.notFound, "\(directory): no such directory of OSV advisories")
        }
        var advisories: [Advisory] = []
        for relative in walker.sorted() where relative.hasSuffix(".json") {
            let path = directory + "/" + relative
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            do {
                if let many = try? JSONDecoder().decode([Advisory].self, from: data) {
                    advisories += many
                } else {
                    advisories.append(try JSONDecoder().decode(Advisory.self, from: data))
                }
            } catch {
                throw HuskError(.usage, "\(path): not an OSV advisory (\(error)); remove it or fix it")
            }
        }
        return advisories.sorted { $0.id < $1.id }
    }

    /// How `package` of an image of `os` is affected, if it is: the version
    /// that fixes it ("" when none does yet).
    public func affects(_ package: PackageInventory.Package, os: PackageInventory.OperatingSystem?) -> String? {
        guard package.type == "deb" else { return nil }
        for entry in affected ?? [] {
            guard let target = entry.package, Self.ecosystem(target.ecosystem, matches: os),
                  target.name == package.name || target.name == package.source else { continue }
            let version = DebianVersion(package.version)
            if entry.versions?.contains(package.version) == true { return "" }
            for range in entry.ranges ?? [] where range.type == "ECOSYSTEM" {
                if let fixed = Self.fixedVersion(for: version, events: range.events) { return fixed }
            }
        }
        return nil
    }

    /// `Debian:12` for Debian 12 (also plain `Debian`), `Ubuntu:22.04[:LTS]`.
    /// Without os-release the release is unknown: every Debian release's
    /// advisories apply (an audit says too much rather than too little).
    static func ecosystem(_ name: String, matches os: PackageInventory.OperatingSystem?) -> Bool {
        let parts = name.split(separator: ":").map(String.init)
        guard let family = parts.first?.lowercased(), ["debian", "ubuntu"].contains(family) else { return false }
        guard let os else { return family == "debian" }
        guard os.id.lowercased() == family else { return false }
        return parts.count < 2 || os.versionID == nil || parts[1] == os.versionID
    }

    /// Events in order: each `introduced` opens an interval that the next
    /// `fixed` (excluded) or `last_affected` (included) closes. The version
    /// inside one: its fix ("" for none or last_affected); else nil.
    static func fixedVersion(for version: DebianVersion, events: [[String: String]]) -> String? {
        var open = false  // inside an interval whose start is at or below `version`
        for event in events {
            if let introduced = event["introduced"] {
                // "0": every version since the first.
                open = introduced == "0" || DebianVersion(introduced) <= version
            } else if let fixed = event["fixed"] {
                if open && version < DebianVersion(fixed) { return fixed }
                open = false
            } else if let last = event["last_affected"] {
                if open && version <= DebianVersion(last) { return "" }
                open = false
            }
        }
        return open ? "" : nil  // an interval with no fix yet
    }
}
