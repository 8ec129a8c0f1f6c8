import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskRunCommand
import HuskSquash
import HuskTrust
import Logging

extension SBOM.Format: ExpressibleByArgument {}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a Husk image or a SIF file is: source, digests, platform, entrypoint, environment, size.",
        discussion: """
            Reads the squashfs file directly (no mount). --json prints one JSON object for scripts. \
            A SIF file (Apptainer, SingularityCE) shows its data objects (partitions, signatures, \
            metadata), its labels, help text (%help), runscript, startscript and the variables of its \
            environment scripts; its signatures are listed, with the key that made them, but not \
            verified: Husk does not trust them (apptainer verify checks them). \
            --packages lists the OS packages recorded when the image was converted (Debian and Ubuntu \
            dpkg, Alpine apk, RPM): NAME VERSION ARCHITECTURE SOURCE, or JSON with --json; a package \
            database that could not be read is named on standard error. --sbom writes a \
            software bill of materials of them: SPDX 2.3 (spdx-json) or CycloneDX 1.5 (cyclonedx-json).
            """)

    @Argument(help: "A squashfs image written by husk convert, or a SIF file.")
    var image: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "List the image's OS packages (recorded at conversion).")
    var packages = false

    @Option(help: ArgumentHelp("Write an SBOM of the image's packages to standard output.", valueName: "spdx-json|cyclonedx-json"))
    var sbom: SBOM.Format?

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        if SIFFile.hasMagic(path: image) { return try inspectSIF() }
        let info = try ImageInfo.read(path: image)
        if packages || sbom != nil {
            guard let inventory = try PackageInventory.read(imageAt: image) else {
                throw HuskError(.notFound, "\(image) has no package inventory (converted by an older Husk, or not by Husk): convert it again")
            }
            for database in inventory.unread ?? [] {
                HuskLog.logger.warning("\(image): the inventory leaves out \(database.database): \(database.reason)")
            }
            if let sbom {
                let name = String((image.split(separator: "/").last ?? "image").replacing(".sqsh", with: ""))
                let subject = SBOM.Subject(name: name, digest: info.manifestDigest ?? info.configDigest,
                                           source: info.source, created: info.created)
                StandardStream.writeOutput(try SBOM(subject: subject, inventory: inventory).encoded(sbom))
            } else {
                try printPackages(inventory)
            }
            return
        }
        if json {
            try printJSON(info)
            return
        }
        print(Self.text(info))
    }

    /// A SIF file: its objects, signatures (reported, not verified) and
    /// Singularity metadata.
    func inspectSIF() throws {
        if packages || sbom != nil {
            throw HuskError(.notFound, "\(image) is a SIF file, which records no package inventory: convert it (husk convert sif:\(image) IMAGE.sqsh) and inspect that")
        }
        let info = try SIFInfo.read(path: image)
        if json {
            try printJSON(info)
            return
        }
        print(Self.text(info))
    }

    static func text(_ info: SIFInfo) -> String {
        func row(_ name: String, _ value: String) -> String { "\(name):".padded(toWidth: 14) + value }
        var text = [
            row("Image", info.path),
            row("Format", "SIF \(info.sifVersion), id \(info.id)"),
            row("Arch", info.arch),
            row("Created", info.created),
            row("Size", "\(info.size) bytes (\(Self.human(info.size)))"),
            row("Compression", "\(info.compression), \(info.blockSize / 1024) KiB blocks, \(info.inodes) inodes (object \(info.primaryPartition))"),
            "Objects:",
        ]
        for object in info.objects {
            var detail = [object.type]
            if let fileSystem = object.fileSystem, let type = object.partitionType, let arch = object.arch {
                detail = ["\(fileSystem) partition", type, arch]
            }
            if let name = object.name { detail.append("\"\(name)\"") }
            detail.append("\(Self.human(Int64(clamping: object.size))) at \(object.offset)")
            text.append("  \(object.id)  " + detail.joined(separator: ", "))
        }
        if !info.signatures.isEmpty {
            text.append("Signatures:")
            text += info.signatures.map { "  " + SIFInfo.describe($0) }
        }
        if !info.labels.isEmpty {
            text.append("Labels:")
            text += info.labels.sorted { $0.key < $1.key }.map { "  \($0.key)=\($0.value)" }
        }
        if !info.environmentScripts.isEmpty {
            text.append("Env (from \(info.environmentScripts.joined(separator: ", "))):")
            text += info.env.map { "  \($0)" }
            text += info.environmentSkipped.map { "  skipped (not an assignment): \($0)" }
        }
        for (name, body) in [("Help", info.help), ("Runscript", info.runscript), ("Startscript", info.startscript)] {
            guard let body, !body.allSatisfy(\.isWhitespace) else { continue }
            text.append("\(name):")
            text += body.split(separator: "\n", omittingEmptySubsequences: false).map { "  \($0)" }
            while text.last == "  " { text.removeLast() }
        }
        return text.joined(separator: "\n")
    }

    func printPackages(_ inventory: PackageInventory) throws {
        if json {
            try printJSON(inventory)
            return
        }
        let rows = [["NAME", "VERSION", "ARCHITECTURE", "SOURCE"]] + inventory.packages.map {
            [$0.name, $0.version, $0.architecture ?? "-",
             $0.source ?? $0.name]
        }
        let widths = (0..<3).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print((0..<3).map { row[$0].padded(toWidth: widths[$0] + 2) }.joined() + row[3])
        }
    }

    static func text(_ info: ImageInfo) -> String {
        func list(_ items: [String]?) -> String {
            guard let items else { return "-" }
            return "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
        var lines: [(String, String)] = [
            ("Image", info.path),
            ("Source", info.source),
            ("Manifest", info.manifestDigest?.description ?? "-"),
            ("Config", info.configDigest.description),
            ("Platform", info.platform ?? "-"),
            ("Created", info.created ?? "-"),
            ("Entrypoint", list(info.entrypoint)),
            ("Cmd", list(info.cmd)),
            ("WorkingDir", info.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"),
            ("User", info.user.flatMap { $0.isEmpty ? nil : $0 } ?? "-"),
            ("Size", "\(info.size) bytes (\(Self.human(info.size)))"),
            ("Compression", "\(info.compression), \(info.blockSize / 1024) KiB blocks, \(info.inodes) inodes"),
            ("Converted by", info.tool),
        ]
        if let sif = info.sif {
            lines.append(("From SIF", "id \(sif.id), partition \(sif.partition), \(sif.arch)"))
            for key in sif.signedBy ?? [] {
                lines.append(("Signed by", "key \(key), as the SIF said (not verified by Husk)"))
            }
        }
        lines.append(("Layers", "\(info.layers.count)"))
        var text = lines.map { "\($0.0 + ":")".padded(toWidth: 14) + $0.1 }
        text += info.layers.map { "  \($0)" }
        text.append("Env:")
        text += info.env.map { "  \($0)" }
        if !info.labels.isEmpty {
            text.append("Labels:")
            text += info.labels.sorted { $0.key < $1.key }.map { "  \($0.key)=\($0.value)" }
        }
        if let help = info.help, !help.allSatisfy(\.isWhitespace) {
            text.append("Help:")
            text += help.split(separator: "\n").map { "  \($0)" }
        }
        return text.joined(separator: "\n")
    }

    static func human(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\(NumberText.oneDecimal(value)) \(units[unit])"
    }
}
