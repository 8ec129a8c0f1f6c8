import FoundationEssentials
import HuskCore

/// A software bill of materials for an image, from its recorded inventory
/// (`husk inspect --sbom`): SPDX 2.3 or CycloneDX 1.5, JSON. The same image
/// gives the same bytes: the document's time is the image's `created`, its
/// identifiers derive from the manifest digest.
public struct SBOM {
    public enum Format: String, CaseIterable, Sendable {
        case spdxJSON = "spdx-json"
        case cycloneDXJSON = "cyclonedx-json"
    }

    /// What the document describes.
    public struct Subject: Sendable {
        public var name: String
        /// The manifest digest (else the config's): the image's identity.
        public var digest: Digest
        /// Where it came from (`docker://…`, `oci:…`), if known.
        public var source: String?
        /// RFC 3339 (`2024-01-01T00:00:00Z`); the epoch when unknown.
        public var created: String?

        public init(name: String, digest: Digest, source: String?, created: String?) {
            self.name = name
            self.digest = digest
            self.source = source
            self.created = created
        }
    }

    public var subject: Subject
    public var inventory: PackageInventory

    public init(subject: Subject, inventory: PackageInventory) {
        self.subject = subject
        self.inventory = inventory
    }

    public func encoded(_ format: Format) throws -> [UInt8] {
        let object: [String: Any] = format == .spdxJSON ? spdx() : cycloneDX()
        guard let document = JSONValue(object) else { throw HuskError(.io, "the SBOM holds a value JSON cannot") }
        return try document.encoded(pretty: true, escapingSlashes: false) + [0x0a]
    }

    var timestamp: String {
        // SPDX wants seconds precision without fractions: YYYY-MM-DDThh:mm:ssZ.
        guard let created = subject.created, created.count >= 19 else { return "1970-01-01T00:00:00Z" }
        return String(created.prefix(19)) + "Z"
    }

    var tool: String { "husk-\(HuskVersion.current)" }

    // MARK: SPDX 2.3

    func spdx() -> [String: Any] {
        var packages: [[String: Any]] = [[
            "SPDXID": "SPDXRef-Image",
            "name": subject.name,
            "versionInfo": subject.digest.description,
            "downloadLocation": subject.source ?? "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "CONTAINER",
            "checksums": [["algorithm": subject.digest.algorithm.uppercased(), "checksumValue": subject.digest.hex]],
        ]]
        var relationships: [[String: Any]] = [[
            "spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Image",
        ]]
        for (index, package) in inventory.packages.enumerated() {
            let id = "SPDXRef-Package-\(index + 1)"
            var entry: [String: Any] = [
                "SPDXID": id,
                "name": package.name,
                "versionInfo": package.version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "primaryPackagePurpose": "LIBRARY",
                "externalRefs": [["referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                  "referenceLocator": purl(package)]],
            ]
            if let source = package.source, source != package.name {
                entry["sourceInfo"] = "built from source package \(source) \(package.sourceVersion ?? "")"
                    .trimming(" \t")
            }
            packages.append(entry)
            relationships.append(["spdxElementId": "SPDXRef-Image", "relationshipType": "CONTAINS",
                                  "relatedSpdxElement": id])
        }
        return [
            "spdxVersion": "SPDX-2.3",
            "dataLicense": "CC0-1.0",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": "\(subject.name) (\(subject.digest.short))",
            "documentNamespace": "https://husk.invalid/spdx/\(subject.digest.algorithm)/\(subject.digest.hex)",
            "creationInfo": ["created": timestamp, "creators": ["Tool: \(tool)"]],
            "packages": packages,
            "relationships": relationships,
        ]
    }

    // MARK: CycloneDX 1.5

    func cycloneDX() -> [String: Any] {
        var components: [[String: Any]] = []
        if let os = inventory.os {
            var component: [String: Any] = ["type": "operating-system", "name": os.id, "bom-ref": "os:\(os.id)"]
            if let version = os.versionID { component["version"] = version }
            if let description = os.prettyName { component["description"] = description }
            components.append(component)
        }
        for package in inventory.packages {
            let locator = purl(package)
            components.append(["type": "library", "name": package.name, "version": package.version,
                               "purl": locator, "bom-ref": locator])
        }
        return [
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "serialNumber": "urn:uuid:\(Self.uuid(from: subject.digest))",
            "version": 1,
            "metadata": [
                "timestamp": timestamp,
                "tools": ["components": [["type": "application", "name": "husk", "version": HuskVersion.current]]],
                "component": ["type": "container", "bom-ref": "image", "name": subject.name,
                              "version": subject.digest.description],
            ] as [String: Any],
            "components": components,
        ]
    }

    /// A UUID (version 5 layout) from the digest: one image, one serial number.
    static func uuid(from digest: Digest) -> String {
        var bytes = Array(Digest.sha256(of: Array(digest.description.utf8)).hex.utf8.prefix(32))
        bytes[12] = UInt8(ascii: "5")
        bytes[16] = UInt8(ascii: "8")
        let hex = String(decoding: bytes, as: UTF8.self)
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(hex[hex.index(hex.startIndex, offsetBy: range.lowerBound)..<hex.index(hex.startIndex, offsetBy: range.upperBound)])
        }
        return parts.joined(separator: "-")
    }

    // MARK: package URLs

    /// `pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12`;
    /// an RPM's epoch is a qualifier (`pkg:rpm/fedora/zlib@1.2.13-5.fc40?arch=x86_64&distro=fedora-40&epoch=1`).
    /// Qualifiers in key order, as the purl specification asks.
    func purl(_ package: PackageInventory.Package) -> String {
        let defaultNamespace = ["apk": "alpine", "rpm": "redhat"][package.type] ?? "debian"
        let namespace = inventory.os?.id ?? defaultNamespace
        var version = package.version
        var qualifiers: [String] = []
        if let arch = package.architecture { qualifiers.append("arch=\(Self.escape(arch))") }
        if let os = inventory.os {
            qualifiers.append("distro=\(Self.escape(os.id + (os.versionID.map { "-" + $0 } ?? "")))")
        }
        if package.type == "rpm", let colon = version.firstIndex(of: ":") {
            qualifiers.append("epoch=\(Self.escape(String(version[..<colon])))")
            version = String(version[version.index(after: colon)...])
        }
        let query = qualifiers.isEmpty ? "" : "?" + qualifiers.joined(separator: "&")
        return "pkg:\(package.type)/\(Self.escape(namespace))/\(Self.escape(package.name))@\(Self.escape(version))\(query)"
    }

    /// Percent-encoding of everything but letters, digits and `.-_~`
    /// (a Debian version's epoch ':' and '+' included).
    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || ".-_~".contains(c)) {
                out.append(c)
            } else {
                out += "%" + NumberText.hex(byte, digits: 2)
            }
        }
        return out
    }
}
