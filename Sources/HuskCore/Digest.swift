import Crypto

/// A content digest `algorithm:hex` as used by OCI. Only sha256 and sha512 are
/// accepted; the hex part is validated so it is safe to use in a file name.
public struct Digest: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    public let algorithm: String
    public let hex: String

    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw HuskError(.invalidManifest, "invalid digest \"\(text)\": expected ALGORITHM:HEX")
        }
        let algorithm = String(text[..<colon])
        let hex = String(text[text.index(after: colon)...])
        let expectedLength: Int
        switch algorithm {
        case "sha256": expectedLength = 64
        case "sha512": expectedLength = 128
        default:
            throw HuskError(.invalidManifest, "unsupported digest algorithm \"\(algorithm)\" in \(text): use sha256 or sha512")
        }
        guard hex.utf8.count == expectedLength,
              hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw HuskError(.invalidManifest, "invalid digest \"\(text)\": expected \(expectedLength) lowercase hex digits")
        }
        self.algorithm = algorithm
        self.hex = hex
    }

    public init(sha256Hex hex: String) {
        self.init(unchecked: "sha256", hex)
    }

    /// For digests Husk computed itself.
    init(unchecked algorithm: String, _ hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }

    public static func sha256(of bytes: some Sequence<UInt8>) -> Digest {
        var hasher = DigestHasher(algorithm: "sha256")
        hasher.update(Array(bytes))
        return hasher.finalize()
    }

    public var description: String { "\(algorithm):\(hex)" }
    /// First 12 hex digits, as `docker images` shows them.
    public var short: String { String(hex.prefix(12)) }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }
}

/// Streaming digest computation for the algorithms `Digest` accepts.
public struct DigestHasher {
    private var sha256: SHA256?
    private var sha512: SHA512?
    public let algorithm: String

    public init(algorithm: String) {
        self.algorithm = algorithm
        if algorithm == "sha512" { sha512 = SHA512() } else { sha256 = SHA256() }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        if sha512 != nil { sha512!.update(bufferPointer: bytes) } else { sha256!.update(bufferPointer: bytes) }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func finalize() -> Digest {
        let raw: [UInt8] = sha512 != nil ? Array(sha512!.finalize()) : Array(sha256!.finalize())
        let hex = raw.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xf)]], as: UTF8.self)
        }.joined()
        return Digest(unchecked: algorithm, hex)
    }
}
