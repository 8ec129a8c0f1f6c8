import CGPGME
import FoundationEssentials
import HuskCore

/// OpenPGP signatures through GnuPG's GPGME (never hand-written). One key
/// set serves both kinds of signature Husk checks: the registry's simple
/// signing signatures and the signatures in a `.sqsh` file's trailer.
///
/// Verification never consults a user's keyring: the trusted keys (files)
/// are imported into a fresh, private GnuPG home, so a good signature is
/// one made by one of those keys, whatever else anybody's keyring holds.
public final class OpenPGP {
    /// A signature as GnuPG found it.
    public struct Signature: Equatable, Sendable {
        public var fingerprint: String
        /// Good: made by the key and over exactly these bytes.
        public var isGood: Bool
        /// Why not, in GnuPG's words ("Bad signature", "No public key").
        public var problem: String?
        /// Not checkable here: the key is not among those trusted.
        public var isUnknownKey = false
        public var created: Date?
        /// The key's first user id, where the keyring knows the key.
        public var userID: String?
    }

    private let context: OpaquePointer
    /// The private home this instance made (removed on deinit), or nil for the user's.
    private let temporaryHome: String?

    private static let initialized: Bool = {
        _ = gpgme_check_version(nil)
        return true
    }()

    /// A context on GnuPG home `home` (nil: the user's, `$GNUPGHOME` or ~/.gnupg).
    init(home: String?, temporary: Bool) throws {
        _ = Self.initialized
        var ctx: OpaquePointer?
        try Self.check(gpgme_new(&ctx), "starting GnuPG")
        guard let ctx else { throw HuskError(.io, "GnuPG: cannot create a context") }
        context = ctx
        temporaryHome = temporary ? home : nil
        gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        if let home {
            try Self.check(gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nil, home), "using the GnuPG home \(home)")
        }
    }

    /// The user's own keyring: signing with their secret keys (`husk sign`).
    public static func userKeyring() throws -> OpenPGP { try OpenPGP(home: nil, temporary: false) }

    /// A private keyring holding exactly the keys in `files` (armored or
    /// binary OpenPGP public keys), made in `scratch` (a private directory).
    public static func trusting(keyFiles files: [String], scratch: String) throws -> OpenPGP {
        guard !files.isEmpty else { throw HuskError(.usage, "no trusted keys to verify signatures with") }
        // Short: GnuPG puts sockets there, and socket paths are limited to ~108 bytes.
        let home = try FilePath.makeUniqueDirectory(prefix: "\(scratch)/gpg-")
        let pgp = try OpenPGP(home: home, temporary: true)
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file) else {
                throw HuskError(.notFound, "trusted key \(file): cannot read it")
            }
            let imported = try pgp.importKeys(Array(bytes))
            if imported == 0 { throw HuskError(.usage, "trusted key \(file): no OpenPGP public key in it") }
        }
        return pgp
    }

    deinit {
        gpgme_release(context)
        if let home = temporaryHome {
            // gpg may have started an agent there; end it, then remove the home.
            _ = try? ChildProcess.run("/usr/bin/gpgconf", ["--homedir", home, "--kill", "all"],
                                      environment: ProcessInfo.processInfo.environment, timeout: 30)
            try? FileManager.default.removeItem(atPath: home)
        }
    }

    /// Imports keys; returns how many were new or already there.
    @discardableResult
    func importKeys(_ bytes: [UInt8]) throws -> Int {
        let data = try Data_(bytes)
        try Self.check(gpgme_op_import(context, data.handle), "importing keys")
        guard let result = gpgme_op_import_result(context) else { return 0 }
        return Int(result.pointee.imported + result.pointee.unchanged)
    }

    /// A signature over `data`, detached (binary), by the secret key `key`
    /// (a fingerprint, key id or user id; nil: GnuPG's default key).
    public func signDetached(_ data: [UInt8], key: String?) throws -> (signature: [UInt8], fingerprint: String) {
        gpgme_signers_clear(context)
        if let key {
            var handle: gpgme_key_t?
            try Self.check(gpgme_get_key(context, key, &handle, 1), "finding the secret key \(key)")
            defer { gpgme_key_unref(handle) }
            try Self.check(gpgme_signers_add(context, handle), "using the secret key \(key)")
        }
        let plain = try Data_(data)
        let out = try Data_([])
        try Self.check(gpgme_op_sign(context, plain.handle, out.handle, GPGME_SIG_MODE_DETACH), "signing")
        guard let result = gpgme_op_sign_result(context), let signature = result.pointee.signatures,
              let fpr = signature.pointee.fpr else {
            throw HuskError(.io, "GnuPG made no signature (is there a secret key? gpg --list-secret-keys)")
        }
        return (out.bytes(), String(cString: fpr))
    }

    /// Checks a detached signature over `data`.
    public func verifyDetached(_ signature: [UInt8], data: [UInt8]) throws -> [Signature] {
        let sig = try Data_(signature)
        let signed = try Data_(data)
        try Self.check(gpgme_op_verify(context, sig.handle, signed.handle, nil), "checking a signature")
        return signatures()
    }

    /// Checks an attached (opaque) signed message: its signatures and the
    /// payload it carries (what containers' simple signing writes).
    public func verifyOpaque(_ message: [UInt8]) throws -> (payload: [UInt8], signatures: [Signature]) {
        let signed = try Data_(message)
        let plain = try Data_([])
        try Self.check(gpgme_op_verify(context, signed.handle, nil, plain.handle), "checking a signed message")
        return (plain.bytes(), signatures())
    }

    private func signatures() -> [Signature] {
        var found: [Signature] = []
        var next = gpgme_op_verify_result(context)?.pointee.signatures
        while let signature = next {
            let fpr = signature.pointee.fpr.map { String(cString: $0) } ?? "unknown"
            let status = signature.pointee.status
            let good = husk_gpgme_code(status) == GPG_ERR_NO_ERROR.rawValue
            let time = signature.pointee.timestamp
            found.append(Signature(fingerprint: fpr, isGood: good,
                                   problem: good ? nil : String(cString: gpgme_strerror(status)),
                                   isUnknownKey: husk_gpgme_code(status) == GPG_ERR_NO_PUBKEY.rawValue,
                                   created: time > 0 ? Date(timeIntervalSince1970: TimeInterval(time)) : nil,
                                   userID: userID(of: fpr)))
            next = signature.pointee.next
        }
        return found
    }

    func userID(of fingerprint: String) -> String? {
        var key: gpgme_key_t?
        guard gpgme_get_key(context, fingerprint, &key, 0) == 0, let key else { return nil }
        defer { gpgme_key_unref(key) }
        return key.pointee.uids?.pointee.uid.map { String(cString: $0) }
    }

    static func check(_ error: gpgme_error_t, _ doing: String) throws {
        guard husk_gpgme_code(error) != GPG_ERR_NO_ERROR.rawValue else { return }
        throw HuskError(.io, "GnuPG: \(doing): \(String(cString: gpgme_strerror(error)))")
    }

    /// A GPGME data buffer, released with its owner.
    final class Data_ {
        let handle: OpaquePointer

        init(_ bytes: [UInt8]) throws {
            var dh: OpaquePointer?
            let error = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    gpgme_data_new_from_mem(&dh, $0.baseAddress ?? UnsafePointer(bitPattern: 1), $0.count, 1)
                }
            }
            try OpenPGP.check(error, "holding data")
            guard let dh else { throw HuskError(.io, "GnuPG: cannot hold data") }
            handle = dh
        }

        func bytes() -> [UInt8] {
            gpgme_data_seek(handle, 0, SEEK_SET)
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { gpgme_data_read(handle, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                out += buffer[0..<n]
            }
            return out
        }

        deinit { gpgme_data_release(handle) }
    }
}
