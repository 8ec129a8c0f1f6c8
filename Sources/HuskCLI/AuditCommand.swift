import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskRunCommand
import HuskTrust

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Report revoked images and packages affected by advisories, for directories of images.",
        discussion: """
            Walks the .sqsh files named or found under the directories named (and the image cache \\
            with --cache) and reads their metadata; nothing is mounted or run. Each image's \\
            signatures (husk sign) are checked with --keyring, else the policy's trusted_keys. An \\
            image is flagged when a signature is bad, when it has no good one and the policy \\
            requires signatures, when the site policy (or --policy FILE) revokes it or a layer it \\
            is built on, or when an \\
            advisory in --osv DIR (OSV JSON files, as Debian and Ubuntu publish them) affects one of \\
            its packages (Debian version order, as dpkg compares). Images without a package \\
            inventory are listed as unchecked. A table for people, --json for scripts. Exit status \\
            1 when any image is flagged.
            """)

    @Argument(help: "Image files and directories to walk.")
    var paths: [String] = []

    @Option(help: ArgumentHelp("A policy file to audit against instead of the site's.", valueName: "FILE"))
    var policy: String?

    @Option(help: ArgumentHelp("A directory of OSV advisories (*.json).", valueName: "DIR"))
    var osv: String?

    @Option(help: ArgumentHelp("Check image signatures against the public keys in FILE (default: the policy's trusted_keys). Repeatable.",
                               valueName: "FILE"))
    var keyring: [String] = []

    @Flag(help: "Also audit the images in the cache.")
    var cache = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if paths.isEmpty && !cache { throw ValidationError("name image files or directories, or use --cache") }
    }

    func run() throws {
        global.bootstrapLogging()
        let rules: SitePolicy
        if let file = policy {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            rules = try SitePolicy(parsing: text, path: file)
        } else {
            rules = try HuskSettings.sitePolicy()
        }
        let advisories = try osv.map { try Advisory.load(directory: $0) } ?? []
        let keys = keyring.isEmpty ? rules.trustedKeys : keyring
        let pgp = try keys.isEmpty ? nil : OpenPGP.trusting(keyFiles: keys, scratch: try PrivateDirectory.prepare(
            HuskPaths(environment: ProcessInfo.processInfo.environment).scratch, what: "a private GnuPG home"))
        var roots = paths
        if cache { roots.append(try HuskSettings.cacheRoot() + "/images") }
        let reports = try HuskTrust.Audit.images(in: roots).map {
            HuskTrust.Audit.report(image: $0, policy: rules, advisories: advisories, pgp: pgp)
        }
        if json {
            try printJSON(reports)
        } else {
            print("policy: \(rules.path ?? "none"); advisories: \(advisories.count)")
            for report in reports {
                let kinds = Set(report.findings.map(\.kind))
                let status = kinds.contains("revoked") ? "REVOKED"
                    : kinds.contains("bad-signature") ? "BAD SIGNATURE"
                    : kinds.contains("vulnerable") ? "VULNERABLE"
                    : kinds.contains("unsigned") ? "UNSIGNED"
                    : report.findings.isEmpty ? "ok" : "unchecked"
                let packages = report.packages.map { ", \($0) packages" } ?? ""
                print("\(report.image): \(status)\(packages); \(report.signature)")
                for finding in report.findings { print("  \(finding.kind): \(finding.message)") }
            }
        }
        if reports.contains(where: \.isFlagged) { throw ExitCode(1) }
    }
}
