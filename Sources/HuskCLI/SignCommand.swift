import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskRunCommand
import HuskTrust

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign an image file with your OpenPGP key (GnuPG); the signature goes into the file.",
        discussion: """
            The signature is detached OpenPGP over the squashfs bytes (sha256 of everything up to \\
            the superblock's bytes_used) and the manifest the image was converted from, appended \\
            after the squashfs: the file still mounts with squashfuse, the kernel and ch-run. \\
            Several signatures may coexist (sign again with another key). The key comes from your \\
            GnuPG keyring ($GNUPGHOME, else ~/.gnupg); GnuPG asks for its passphrase as usual.
            """)

    @Option(help: ArgumentHelp("The secret key to sign with: fingerprint, key id or user id (default: GnuPG's default key).",
                               valueName: "KEY"))
    var key: String?

    @Argument(help: "The image file.")
    var image: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let signer = try ImageSignatures.sign(path: image, key: key)
        print("signed \(image) with \(signer.fingerprint)\(signer.userID.map { " (\($0))" } ?? "")")
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an image file's signatures and say who signed it.",
        discussion: """
            One line per signature: good, by a key not trusted here, or BAD and why (a changed byte \\
            anywhere in the file fails them all). Trusted keys: the --keyring files (OpenPGP public \\
            keys, armored or binary), else your GnuPG keyring. Exit status 0 when at least one \\
            signature is good and none is bad; 1 otherwise (also for an unsigned image).
            """)

    @Option(help: ArgumentHelp("Trust only the public keys in FILE. Repeatable.", valueName: "FILE"))
    var keyring: [String] = []

    @Argument(help: "The image file.")
    var image: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let pgp: OpenPGP
        if keyring.isEmpty {
            pgp = try OpenPGP.userKeyring()
        } else {
            let scratch = try PrivateDirectory.prepare(HuskPaths(environment: ProcessInfo.processInfo.environment).scratch,
                                                       what: "a private GnuPG home")
            pgp = try OpenPGP.trusting(keyFiles: keyring, scratch: scratch)
        }
        let checked = try ImageSignatures.verify(path: image, with: pgp)
        guard !checked.isEmpty else { throw HuskError(.notFound, "\(image) is not signed (husk sign signs it)") }
        for signature in checked {
            let who = signature.fingerprint + (signature.userID.map { " (\($0))" } ?? "")
            switch signature.state {
            case .good:
                let when = signature.payload.map { ", signed \($0.signedAt)" } ?? ""
                let manifest = signature.payload?.manifestDigest.map { ", manifest \($0)" } ?? ""
                print("\(image): good signature by \(who)\(when)\(manifest)")
            case .untrusted:
                print("\(image): signature by \(who): a key not trusted here (not checked)")
            case .bad(let why):
                print("\(image): BAD signature by \(who): \(why)")
            }
        }
        let bad = checked.contains { if case .bad = $0.state { return true } else { return false } }
        if bad || !checked.contains(where: { $0.state == .good }) { throw ExitCode(1) }
    }
}
