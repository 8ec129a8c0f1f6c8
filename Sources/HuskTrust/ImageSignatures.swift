import FoundationEssentials
import HuskCore
import HuskSquash

/// Signed image files (`husk sign`, `husk verify`; DESIGN.md §2), as
/// Apptainer signs SIF files: a detached OpenPGP signature over a small
/// payload that names the squashfs bytes (sha256 of [0, bytes_used)) and
/// the manifest they were converted from, kept in the file's trailer.
/// Several signatures may coexist; one changed byte anywhere fails them.
public enum ImageSignatures {
    /// What a signature vouches for.
    public struct Payload: Codable, Equatable, Sendable {
        public static let kind = "husk image signature v1"
        public var type: String
        /// sha256 of the squashfs, bytes [0, bytes_used).
        public var squashfsDigest: Digest
        public var squashfsBytes: UInt64
        /// From /.husk/source.json, if the image has one.
        public var manifestDigest: Digest?
        public var signedAt: String
    }

    /// A signature in the trailer, checked.
    public struct Checked: Sendable {
        public enum State: Equatable, Sendable {
            /// Made by a trusted key over exactly this image.
            case good
            /// By a key not among those trusted; the payload still matches the image.
            case untrusted
            /// Forged, or the image changed after it was signed: why.
            case bad(String)
        }
        public var fingerprint: String
        public var userID: String?
        public var payload: Payload?
        public var state: State
    }

    /// Signs the image at `path` with `key` from the user's GnuPG keyring
    /// (nil: its default key) and appends the signature. Returns the signer.
    public static func sign(path: String, key: String?, at date: Date = Date()) throws -> (fingerprint: String, userID: String?) {
        let (bytesUsed, manifest) = try describe(path)
        let payload = Payload(type: Payload.kind,
                              squashfsDigest: try SignatureTrailer.squashfsDigest(path: path, bytesUsed: bytesUsed),
                              squashfsBytes: bytesUsed, manifestDigest: manifest,
                              signedAt: NumberText.utcTime(Int(date.timeIntervalSince1970)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = Array(try encoder.encode(payload))
        let pgp = try OpenPGP.userKeyring()
        let (signature, fingerprint) = try pgp.signDetached(bytes, key: key)
        try SignatureTrailer.append(path: path, bytesUsed: bytesUsed, payload: bytes, signature: signature)
        return (fingerprint, pgp.userID(of: fingerprint))
    }

    /// Every signature in the image's trailer, checked with `pgp`'s keys
    /// against the image as it is now. Throws for a damaged file.
    public static func verify(path: String, with pgp: OpenPGP) throws -> [Checked] {
        let (bytesUsed, manifest) = try describe(path)
        let (records, _, incomplete) = try SignatureTrailer.read(path: path, bytesUsed: bytesUsed)
        if incomplete {
            throw HuskError(.invalidImage, "\(path): its last signature record is incomplete (an interrupted husk sign?): sign it again")
        }
        guard !records.isEmpty else { return [] }
        let digest = try SignatureTrailer.squashfsDigest(path: path, bytesUsed: bytesUsed)
        return try records.map { record in
            let signer = try pgp.verifyDetached(record.signature, data: record.payload).first
            let payload = try? JSONDecoder().decode(Payload.self, from: Data(record.payload))
            var checked = Checked(fingerprint: signer?.fingerprint ?? "unknown", userID: signer?.userID,
                                  payload: payload, state: .good)
            // The payload is checked whoever signed: a changed image fails every signature.
            if let problem = Self.mismatch(payload, digest: digest, bytesUsed: bytesUsed, manifest: manifest) {
                checked.state = .bad(problem)
            } else if let signer, signer.isUnknownKey {
                checked.state = .untrusted
            } else if let signer, !signer.isGood {
                checked.state = .bad(signer.problem ?? "bad signature")
            } else if signer == nil {
                checked.state = .bad("no signature in the record at byte \(record.offset)")
            }
            return checked
        }
    }

    /// What is wrong with `payload` for this image, or nil.
    static func mismatch(_ payload: Payload?, digest: Digest, bytesUsed: UInt64, manifest: Digest?) -> String? {
        guard let payload, payload.type == Payload.kind else { return "its payload is not a Husk image signature" }
        if payload.squashfsDigest != digest || payload.squashfsBytes != bytesUsed {
            return "it signs other bytes (\(payload.squashfsDigest.short)): the image was changed after it was signed"
        }
        if payload.manifestDigest != manifest {
            return "it signs manifest \(payload.manifestDigest?.short ?? "none"), the image says \(manifest?.short ?? "none")"
        }
        return nil
    }

    static func describe(_ path: String) throws -> (bytesUsed: UInt64, manifest: Digest?) {
        let reader = try SquashReader(path: path)
        var manifest: Digest?
        if let bytes = try reader.readFile(".husk/source.json") {
            manifest = try ImageMetadata.decode(SourceRecord.self, from: bytes, file: "/.husk/source.json", image: path).manifestDigest
        }
        return (reader.bytesUsed, manifest)
    }
}
