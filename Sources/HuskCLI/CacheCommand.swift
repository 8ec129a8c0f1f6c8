import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskRegistry
import HuskRunCommand
import HuskRuntime

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List or clean the image and blob cache.",
        discussion: """
            The cache is ${HUSK_CACHEDIR:-$XDG_CACHE_HOME/husk}: blobs/sha256/HEX (verified \
            registry blobs), images/HEX.sqsh (converted images, by manifest digest) and refs/ \
            (what each pulled tag named). Many jobs may share it, also on a shared filesystem: \
            writers lock each entry and rename complete files into place.
            """,
        subcommands: [CacheList.self, CacheClean.self])
}

struct CacheList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Show cached images and blobs, with a size summary.")

    @Flag(help: "Print JSON for scripts.")
    var json = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let root = try HuskSettings.cacheRoot()
        let entries = CacheInventory(root: root).entries()
        if json {
            try printJSON(entries)
            return
        }
        print("KIND     DIGEST        SIZE        MODIFIED              SOURCE")
        for entry in entries {
            let kind = entry.kind.padded(toWidth: 8)
            let digest = String(entry.digest.dropFirst(7).prefix(12))
            let size = TransferProgress.bytes(entry.size).padded(toWidth: 11)
            print("\(kind) \(digest)  \(size) \(NumberText.utcTime(Int(entry.modified.timeIntervalSince1970), separator: " ", zone: false))   \(entry.reference ?? "")")
        }
        for kind in ["image", "blob", "partial"] {
            let some = entries.filter { $0.kind == kind }
            guard !some.isEmpty else { continue }
            let total = some.reduce(Int64(0)) { $0 + $1.size }
            print("\(some.count) \(kind)\(some.count == 1 ? "" : "s"): \(TransferProgress.bytes(total))")
        }
        print("total: \(TransferProgress.bytes(entries.reduce(Int64(0)) { $0 + $1.size })) in \(root)")
    }
}

struct CacheClean: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean", abstract: "Remove cached images and blobs (all, or those unused for a while).",
        discussion: "Entries another husk is using (holds the lock of) are kept. Images count as used when a container starts from them.")

    @Option(help: ArgumentHelp("Only entries not used for this long: 30m, 12h, 7d, 2w.", valueName: "DURATION"))
    var olderThan: String?

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let age = try olderThan.map { try CacheInventory.parseDuration($0) }
        let root = try HuskSettings.cacheRoot()
        let (count, bytes) = try CacheInventory(root: root).clean(olderThan: age)
        print("removed \(count) entr\(count == 1 ? "y" : "ies"), \(TransferProgress.bytes(bytes)), from \(root)")
    }
}
