import FoundationEssentials
import Glibc
import HuskCore
import HuskSquash
import HuskTrust

/// Where the site requires signatures (`require_signature`), an image file
/// runs only with a good signature by one of its trusted keys in its
/// trailer (`husk sign`) and none that is bad; `docker://` images are held
/// to their registry signatures instead (RegistryImages). Checking means
/// hashing the whole squashfs, so a verdict is kept in the cache under the
/// file's identity (device, inode, size, times) and the keys: a changed
/// file or key set is checked again.
///
/// Like every rule a rootless runtime applies to its own user, this keeps
/// users from running what the site has not vetted by mistake; it cannot
/// stop one who runs another tool.
enum SignedImageGate {
    static func check(_ image: RuntimeImage, policy: SitePolicy, cacheDirectory: String, scratch: String) throws {
        guard policy.requireSignature, !image.reference.hasPrefix("docker://"), image.instance == nil else { return }
        let name = image.reference.isEmpty ? image.path : image.reference
        guard case .squashfs(let path, _) = image.root else {
            throw HuskError(.refused, "refused: \(name) is a directory, which cannot be signed, and the site policy (\(policy.path ?? "")) requires signed images; run a signed .sqsh file")
        }
        if image.sif != nil {
            // A SIF's own signatures are reported by husk inspect, never trusted.
            throw HuskError(.refused, "refused: \(name) is a SIF file, whose signatures Husk does not verify, and the site policy (\(policy.path ?? "")) requires signed images; convert it (husk convert sif:\(path) IMAGE.sqsh) and run it signed with husk sign by a trusted key")
        }
        let record = try verdictPath(path, keys: policy.trustedKeys, cacheDirectory: cacheDirectory)
        if let record, FileManager.default.fileExists(atPath: record) { return }
        let pgp = try OpenPGP.trusting(keyFiles: policy.trustedKeys, scratch: scratch)
        let checked = try ImageSignatures.verify(path: path, with: pgp)
        for signature in checked {
            if case .bad(let why) = signature.state {
                throw HuskError(.refused, "refused: \(name): its signature by \(signature.fingerprint) is bad (\(why)); copy the image again or ask who signed it")
            }
        }
        guard let good = checked.first(where: { $0.state == .good }) else {
            throw HuskError(.refused, "refused: \(name) has no signature by a key the site trusts, and the site policy (\(policy.path ?? "")) requires one; run an image signed with husk sign by a trusted key")
        }
        if let record {
            try? FileManager.default.createDirectory(atPath: FilePath.directory(of: record), withIntermediateDirectories: true)
            try? FilePath.writeAtomically(Array(good.fingerprint.utf8), to: record)
        }
    }

    /// Where the verdict for this file as it is now, under these keys, is
    /// kept; nil when the file cannot be identified.
    static func verdictPath(_ path: String, keys: [String], cacheDirectory: String) throws -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        var identity = "\(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec):"
            + "\(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)"
        for key in keys.sorted() {
            guard let bytes = FileManager.default.contents(atPath: key) else { return nil }
            identity += ":" + Digest.sha256(of: Array(bytes)).hex
        }
        return "\(cacheDirectory)/verified/\(Digest.sha256(of: Array(identity.utf8)).hex)"
    }
}
