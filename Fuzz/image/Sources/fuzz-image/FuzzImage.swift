#if canImport(Glibc)
import Glibc
#endif
import CFuzzDriver
import CLibSquashFS
import HuskCore
import HuskOCI
@testable import HuskSquash

/// libFuzzer's entry point: `data` is a whole image file. Any crash, and any
/// error other than a one-line `HuskError`, is a finding. The same bytes are
/// also read as an ELF file, as `--bind-mpi` reads the image's libc.so.6
/// (ELFFile): ELF seeds join the corpus, and neither reader gets far on the
/// other's inputs, so one target serves both.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let path = InputFile.shared.replace(with: bytes)
    ImageReading.readLikeHusk(path)
    if let elf = ELFFile(bytes: Array(bytes)) { _ = (elf.glibcNeeded, elf.glibcDefined) }
    return 0
}

/// One file reused for every input, opened by path through /proc/self/fd as
/// `husk` opens an image. It is unlinked at once (nothing left behind after a
/// crash) and lives in /dev/shm when there is one (no disk writes).
final class InputFile: @unchecked Sendable {  // used from libFuzzer's one thread only
    static let shared = InputFile()
    let fd: Int32
    let path: String

    private init() {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let name = "\(directory)/husk-fuzz-image-\(getpid())"
        fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        precondition(fd >= 0, "\(name): cannot create: errno \(errno)")
        unlink(name)
        path = "/proc/self/fd/\(fd)"
    }

    func replace(with bytes: UnsafeRawBufferPointer) -> String {
        precondition(ftruncate(fd, 0) == 0)
        var written = 0
        while written < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + written, bytes.count - written, off_t(written))
            precondition(n > 0, "pwrite failed: errno \(errno)")
            written += n
        }
        return path
    }
}

enum ImageReading {
    /// `husk inspect` (ImageInfo, SIFInfo), `husk exec` (RuntimeImage: the
    /// metadata, identity files, entries it checks) and `--mode extract` (the
    /// whole tree), of a squashfs file or of a SIF file's partition.
    static func readLikeHusk(_ path: String) {
        let steps = Steps()
        steps.run { _ = try ImageInfo.read(path: path) }
        if SIFFile.hasMagic(path: path) {
            // A SIF file: husk inspect (its objects, labels, environment
            // scripts through ShellAssignments), then its partition as
            // husk exec reads it.
            steps.run { _ = try SIFInfo.read(path: path) }
            guard let sif = steps.run({ try SIFImage(path: path) }) else { return }
            steps.run { _ = try sif.singularity() }
            readSquashfs(sif.reader, path: path, steps: steps)
            return
        }
        guard let reader = steps.run({ try SquashReader(path: path) }) else { return }
        readSquashfs(reader, path: path, steps: steps)
    }

    /// Numbers the steps of one input; each reports its outcome to libFuzzer
    /// as a probe (see driver.c).
    final class Steps {
        var probe: UInt32 = 0

        @discardableResult
        func run<T>(_ body: () throws -> T) -> T? {
            let result = expectHuskError(body)
            husk_fuzz_progress(probe, result == nil ? 0 : 1)
            probe += 1
            return result
        }
    }

    /// The metadata, identity files, entries and tree husk reads from a squashfs.
    static func readSquashfs(_ reader: SquashReader, path: String, steps: Steps) {
        _ = reader.compressionName
        steps.run {
            if let bytes = try reader.readFile(".husk/config.json") {
                _ = try ImageMetadata.decode(ImageConfiguration.self, from: bytes, file: ".husk/config.json", image: path)
            }
        }
        steps.run {
            if let bytes = try reader.readFile(".husk/source.json") {
                _ = try ImageMetadata.decode(SourceRecord.self, from: bytes, file: ".husk/source.json", image: path)
            }
        }
        for entry in ["bin/sh", "bin/bash", "etc/resolv.conf", "home", "no/such/entry", ".husk"] {
            // An absent entry counts as a failed step, so the probe tells found from absent.
            steps.run { if try !reader.entryExists(entry) { throw HuskError(.notFound, "absent") } }
        }
        steps.run { _ = try reader.readFile("etc/passwd") }
        steps.run { _ = try reader.readFile("etc/group") }
        var walked = Walk()
        steps.run { try walked.run(reader) }
        for (index, count) in [walked.nodes, walked.directories, walked.files, walked.symlinks, walked.depth, walked.bytes].enumerated() {
            husk_fuzz_progress(steps.probe + UInt32(index), UInt64(count))
        }
    }

    /// The result of `body`, or nil after a one-line `HuskError`; stops the
    /// run on anything else.
    @discardableResult
    static func expectHuskError<T>(_ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as HuskError {
            if error.message.contains("\n") { fatalError("a HuskError of more than one line: \(error.message)") }
            return nil
        } catch {
            fatalError("an error that is not a HuskError: \(error)")
        }
    }
}

/// What `SquashExtractor.extract` reads, without writing anything: every node
/// of the tree, symlink targets, and file data up to a budget (a crafted inode
/// may claim any size). Counts what it saw.
struct Walk {
    var nodes = 0, directories = 0, files = 0, symlinks = 0, depth = 0, bytes = 0
    private var buffer = [UInt8](repeating: 0, count: 1 << 17)
    static let budget = 4 << 20

    mutating func run(_ reader: SquashReader) throws {
        try reader.withTree { root in try visit(root, reader: reader, level: 1) }
    }

    private mutating func visit(_ directory: UnsafeMutablePointer<sqfs_tree_node_t>, reader: SquashReader, level: Int) throws {
        depth = max(depth, level)
        var child = directory.pointee.children
        while let node = child {
            child = node.pointee.next
            nodes += 1
            _ = String(cString: husk_sqfs_tree_node_name(node))
            let inode = node.pointee.inode!  // as the extractor assumes
            switch mode_t(inode.pointee.base.mode) & S_IFMT {
            case S_IFDIR:
                directories += 1
                try visit(node, reader: reader, level: level + 1)
            case S_IFREG:
                files += 1
                _ = husk_sqfs_inode_nlink(inode)
                var size: UInt64 = 0
                sqfs_inode_get_file_size(inode, &size)
                var offset: UInt64 = 0
                while offset < size && bytes < Self.budget {
                    let want = UInt32(min(UInt64(buffer.count), size - offset))
                    let got = buffer.withUnsafeMutableBytes {
                        reader.readData(inode, offset: offset, into: $0.baseAddress!, count: want)
                    }
                    guard got > 0 else { break }
                    offset += UInt64(got)
                    bytes += Int(got)
                }
            case S_IFLNK:
                symlinks += 1
                let target = UnsafeRawBufferPointer(start: husk_sqfs_inode_symlink_target(inode),
                                                    count: Int(husk_sqfs_inode_symlink_size(inode)))
                _ = String(decoding: target, as: UTF8.self)
            default:
                break
            }
        }
    }
}
