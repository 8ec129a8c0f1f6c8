import FoundationEssentials
import HuskCore
import HuskOCI
import HuskSquash

/// `husk audit`: what the site should know about the images on its
/// filesystems, read from their metadata (no image is mounted or run):
/// who signed them, revoked images (with what replaces them) and packages
/// that advisories affect.
public enum Audit {
    public struct Finding: Codable, Equatable, Sendable {
        /// `revoked`, `vulnerable`, `bad-signature`, `unsigned` (where the site
        /// requires signatures), or `unchecked` (no inventory, unreadable).
        public var kind: String
        public var message: String
        /// For `vulnerable`: the advisory, the package, its fix ("" for none).
        public var advisory: String?
        public var package: String?
        public var version: String?
        public var fixedIn: String?
    }

    public struct Report: Codable, Equatable, Sendable {
        public var image: String
        /// "signed by FPR (user id)[, ...]", "unsigned", "not checked (no trusted keys)".
        public var signature: String
        public var packages: Int?
        public var findings: [Finding]

        /// A revoked or vulnerable image (unchecked ones are said, not counted).
        public var isFlagged: Bool { findings.contains { $0.kind != "unchecked" } }
    }

    /// The `.sqsh` files named or found under the directories named, sorted.
    public static func images(in paths: [String]) throws -> [String] {
        var found: [String] = []
        for path in paths {
            guard FilePath.exists(path) else {
                throw HuskError(.notFound, "\(path): no such file or directory to audit")
            }
            guard FilePath.isDirectory(path) else {
                found.append(path)
                continue
            }
            for relative in (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? [] where relative.hasSuffix(".sqsh") {
                found.append(path + "/" + relative)
            }
        }
        return found.sorted()
    }

    /// `pgp` holds the trusted keys (nil: signatures are not checked).
    public static func report(image path: String, policy: SitePolicy, advisories: [Advisory], pgp: OpenPGP?) -> Report {
        var report = Report(image: path, signature: "not checked (no trusted keys)", packages: nil, findings: [])
        do {
            let reader = try SquashReader(path: path)
            if let pgp {
                try signatures(of: path, pgp: pgp, requireSignature: policy.requireSignature, into: &report)
            }
            if let digests = try digests(reader, path: path), let why = policy.revocation(of: path, digests) {
                report.findings.append(Finding(kind: "revoked", message: why))
            }
            guard let inventory = try PackageInventory.read(imageAt: path) else {
                report.findings.append(Finding(kind: "unchecked", message: "no package inventory (converted by an older Husk, or not by Husk): convert it again to audit its packages"))
                return report
            }
            report.packages = inventory.packages.count
            for database in inventory.unread ?? [] {
                report.findings.append(Finding(kind: "unchecked", message: "packages of \(database.database) not recorded (\(database.reason)): their advisories are not checked"))
            }
            for package in inventory.packages {
                for advisory in advisories {
                    guard let fix = advisory.affects(package, os: inventory.os) else { continue }
                    let names = ([advisory.id] + (advisory.aliases ?? [])).joined(separator: ", ")
                    let source = package.source.map { $0 == package.name ? "" : " (source \($0))" } ?? ""
                    report.findings.append(Finding(
                        kind: "vulnerable",
                        message: "\(package.name) \(package.version)\(source) is affected by \(names)"
                            + (fix.isEmpty ? ", not fixed yet" : ", fixed in \(fix)"),
                        advisory: advisory.id, package: package.name, version: package.version, fixedIn: fix))
                }
            }
        } catch {
            let message = (error as? HuskError)?.message ?? "\(error)"
            report.findings.append(Finding(kind: "unchecked", message: message))
        }
        return report
    }

    /// The image's own signatures (its trailer), checked with the trusted keys.
    static func signatures(of path: String, pgp: OpenPGP, requireSignature: Bool, into report: inout Report) throws {
        let checked = try ImageSignatures.verify(path: path, with: pgp)
        let good = checked.filter { $0.state == .good }.map { $0.fingerprint + ($0.userID.map { " (\($0))" } ?? "") }
        report.signature = good.isEmpty ? (checked.isEmpty ? "unsigned" : "no signature by a trusted key")
                                        : "signed by " + good.joined(separator: ", ")
        for signature in checked {
            if case .bad(let why) = signature.state {
                report.findings.append(Finding(kind: "bad-signature", message: "signature by \(signature.fingerprint): \(why)"))
            }
        }
        if good.isEmpty && requireSignature {
            report.findings.append(Finding(kind: "unsigned", message: "no signature by a key the site trusts, and the site policy requires one"))
        }
    }

    /// What /.husk/ says the image is made of; nil without Husk's metadata.
    static func digests(_ reader: SquashReader, path: String) throws -> ImageDigests? {
        guard let bytes = try reader.readFile(".husk/source.json") else { return nil }
        let source = try ImageMetadata.decode(SourceRecord.self, from: bytes, file: "/.husk/source.json", image: path)
        var diffIDs: [Digest] = []
        if let config = try reader.readFile(".husk/config.json") {
            diffIDs = try ImageMetadata.decode(ImageConfiguration.self, from: config, file: "/.husk/config.json",
                                               image: path).rootfs?.diff_ids ?? []
        }
        return ImageDigests(manifest: source.manifestDigest, config: source.configDigest,
                            layers: source.layers.map(\.digest), diffIDs: diffIDs)
    }
}
