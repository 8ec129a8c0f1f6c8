#if canImport(Glibc)
import Glibc
#endif

/// What `--bind-mpi`, `--nv` and `--rocm` need from a shared library's ELF
/// headers: its soname, what it needs (DT_NEEDED), the symbol versions it
/// requires (`.gnu.version_r`: GLIBC_2.34, …) and defines (`.gnu.version_d`:
/// libc.so.6 defines GLIBC_2.2.5 … GLIBC_2.36). Read through the section
/// headers, for 32- and 64-bit files of either byte order; anything that is
/// not a well-formed ELF file reads as nil, never as a crash.
public struct ELFFile: Sendable, Equatable {
    public var soname: String?
    public var needed: [String] = []
    /// DT_RPATH and DT_RUNPATH, colon-separated lists (may hold `$ORIGIN`).
    public var rpath: String?
    public var runpath: String?
    public var versionsNeeded: [String] = []
    public var versionsDefined: [String] = []

    public init(soname: String? = nil, needed: [String] = [], rpath: String? = nil, runpath: String? = nil,
                versionsNeeded: [String] = [], versionsDefined: [String] = []) {
        self.soname = soname
        self.needed = needed
        self.rpath = rpath
        self.runpath = runpath
        self.versionsNeeded = versionsNeeded
        self.versionsDefined = versionsDefined
    }

    /// `read(offset, count)` returns up to `count` bytes at `offset`.
    public init?(read: (UInt64, Int) -> [UInt8]) {
        let ident = read(0, 64)
        guard ident.count >= 52, ident[0] == 0x7f, ident[1] == 0x45, ident[2] == 0x4c, ident[3] == 0x46,
              ident[4] == 1 || ident[4] == 2, ident[5] == 1 || ident[5] == 2 else { return nil }
        let is64 = ident[4] == 2, little = ident[5] == 1
        func int(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64? {
            guard at >= 0, at + size <= bytes.count else { return nil }
            var value: UInt64 = 0
            for i in 0..<size {
                let byte = UInt64(bytes[little ? at + size - 1 - i : at + i])
                value = value << 8 | byte
            }
            return value
        }
        let word = is64 ? 8 : 4
        guard let shoff = int(ident, is64 ? 0x28 : 0x20, word),
              let shentsize = int(ident, is64 ? 0x3a : 0x2e, 2),
              let shnum = int(ident, is64 ? 0x3c : 0x30, 2),
              shnum > 0, shnum < 4096, shentsize >= (is64 ? 64 : 40), shentsize < 256 else { return nil }
        let table = read(shoff, Int(shentsize * shnum))
        guard table.count == Int(shentsize * shnum) else { return nil }

        struct Section { var type: UInt64; var offset: UInt64; var size: UInt64; var link: Int }
        var sections: [Section] = []
        for i in 0..<Int(shnum) {
            let base = i * Int(shentsize)
            guard let type = int(table, base + 4, 4),
                  let offset = int(table, base + (is64 ? 0x18 : 0x10), word),
                  let size = int(table, base + (is64 ? 0x20 : 0x14), word),
                  let link = int(table, base + (is64 ? 0x28 : 0x18), 4) else { return nil }
            sections.append(Section(type: type, offset: offset, size: size, link: Int(link)))
        }
        // Sections of interest are small; a size beyond this is damage.
        let limit: UInt64 = 16 << 20
        func contents(_ section: Section) -> [UInt8] {
            section.type == 8 || section.size > limit ? [] : read(section.offset, Int(section.size))  // 8: SHT_NOBITS
        }
        func strings(_ index: Int) -> [UInt8] {
            index > 0 && index < sections.count && sections[index].type == 3 ? contents(sections[index]) : []
        }
        func string(_ table: [UInt8], _ at: UInt64) -> String? {
            guard at < UInt64(table.count) else { return nil }
            let start = Int(at)
            let end = table[start...].firstIndex(of: 0) ?? table.count
            return String(decoding: table[start..<end], as: UTF8.self)
        }

        for section in sections {
            switch section.type {
            case 6:  // SHT_DYNAMIC
                let bytes = contents(section), names = strings(section.link)
                var at = 0
                while at + 2 * word <= bytes.count {
                    guard let tag = int(bytes, at, word), let value = int(bytes, at + word, word) else { break }
                    if tag == 0 { break }
                    if tag == 1, let name = string(names, value) { needed.append(name) }
                    if tag == 14, let name = string(names, value) { soname = name }
                    if tag == 15, let name = string(names, value) { rpath = name }
                    if tag == 29, let name = string(names, value) { runpath = name }
                    at += 2 * word
                }
            case 0x6fff_fffe:  // SHT_GNU_verneed: Verneed entries, each with Vernaux entries
                let bytes = contents(section), names = strings(section.link)
                var at: UInt64 = 0, count = 0
                while count < 1024, let cnt = int(bytes, Int(at) + 2, 2), let aux = int(bytes, Int(at) + 8, 4),
                      let next = int(bytes, Int(at) + 12, 4) {
                    var auxAt = at + aux
                    for _ in 0..<cnt {
                        guard let name = int(bytes, Int(auxAt) + 8, 4), let auxNext = int(bytes, Int(auxAt) + 12, 4)
                        else { break }
                        if let text = string(names, name) { versionsNeeded.append(text) }
                        if auxNext == 0 { break }
                        auxAt += auxNext
                    }
                    count += 1
                    if next == 0 { break }
                    at += next
                }
            case 0x6fff_fffd:  // SHT_GNU_verdef: Verdef entries; the first Verdaux names the version
                let bytes = contents(section), names = strings(section.link)
                var at: UInt64 = 0, count = 0
                while count < 4096, let aux = int(bytes, Int(at) + 12, 4), let next = int(bytes, Int(at) + 16, 4) {
                    if let name = int(bytes, Int(at + aux), 4), let text = string(names, name) {
                        versionsDefined.append(text)
                    }
                    count += 1
                    if next == 0 { break }
                    at += next
                }
            default:
                break
            }
        }
    }

    public init?(bytes: [UInt8]) {
        self.init { offset, count in
            guard offset < UInt64(bytes.count) else { return [] }
            let start = Int(offset)
            return Array(bytes[start..<min(bytes.count, start + count)])
        }
    }

    /// Reads the headers of the file at `path` (nil when it is not ELF).
    public init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        self.init { offset, count in
            guard count > 0, offset <= UInt64(Int64.max) else { return [] }
            var bytes = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let n = bytes.withUnsafeMutableBytes {
                    pread(fd, $0.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
                }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                filled += n
            }
            return Array(bytes[0..<filled])
        }
    }

    /// The highest `GLIBC_x.y` among `versionsNeeded` (what the file needs
    /// from the C library), or nil.
    public var glibcNeeded: GlibcVersion? { versionsNeeded.compactMap(GlibcVersion.init(symbolVersion:)).max() }

    /// The highest `GLIBC_x.y` among `versionsDefined` (what a libc.so.6 is).
    public var glibcDefined: GlibcVersion? { versionsDefined.compactMap(GlibcVersion.init(symbolVersion:)).max() }
}

/// A glibc release, `2.36`, compared part by part.
public struct GlibcVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var parts: [Int]

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count >= 2, parts.allSatisfy({ $0 != nil }) else { return nil }
        self.parts = parts.map { $0! }
    }

    /// `GLIBC_2.34` (not `GLIBC_PRIVATE` or `GLIBC_ABI_DT_RELR`).
    public init?(symbolVersion: String) {
        guard symbolVersion.hasPrefix("GLIBC_") else { return nil }
        self.init(String(symbolVersion.dropFirst(6)))
    }

    /// From a file name of older glibc releases: `libc-2.28.so`.
    public init?(libcFileName name: String) {
        guard name.hasPrefix("libc-"), name.hasSuffix(".so") else { return nil }
        self.init(String(name.dropFirst(5).dropLast(3)))
    }

    public static func < (a: GlibcVersion, b: GlibcVersion) -> Bool {
        for (x, y) in zip(a.parts, b.parts) where x != y { return x < y }
        return a.parts.count < b.parts.count
    }

    public var description: String { parts.map(String.init).joined(separator: ".") }
}
