#if canImport(Glibc)
import Glibc
#endif
import CLibSquashFS
import HuskCore

/// A data reader with a decompressor of its own over an open image
/// (`SquashReader.makeDataReader()`), so that file contents can be read on
/// another thread than the one walking the image's tree.
final class SquashDataReader {
    /// Keeps the image's file and superblock, which the reader uses, open.
    private let image: SquashReader
    private let compressor: UnsafeMutablePointer<sqfs_compressor_t>
    private let dataReader: OpaquePointer

    init(image: SquashReader, compressor: UnsafeMutablePointer<sqfs_compressor_t>, dataReader: OpaquePointer) {
        self.image = image
        self.compressor = compressor
        self.dataReader = dataReader
    }

    deinit {
        husk_sqfs_destroy(UnsafeMutableRawPointer(dataReader))
        husk_sqfs_destroy(compressor)
    }

    var path: String { image.path }

    func read(_ inode: UnsafePointer<sqfs_inode_generic_t>, offset: UInt64, into buffer: UnsafeMutableRawPointer,
              count: UInt32) -> Int32 {
        sqfs_data_reader_read(dataReader, inode, offset, buffer, count)
    }
}

/// The contents of a list of regular files, one after the other, as one
/// stream: what an extraction writes, in the order it writes it. Run behind
/// a PrefetchingSource, the decompression happens on a thread of its own
/// while the extraction creates and writes files.
final class FileContentsSource: ByteSource {
    struct File {
        let inode: UnsafePointer<sqfs_inode_generic_t>
        let size: UInt64
        /// Where it is written: named in errors.
        let target: String
    }

    private let data: SquashDataReader
    private let files: [File]
    private var index = 0
    private var offset: UInt64 = 0

    init(_ data: SquashDataReader, files: [File]) {
        self.data = data
        self.files = files
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count && index < files.count {
            let file = files[index]
            if offset == file.size {
                index += 1
                offset = 0
                continue
            }
            let want = UInt32(min(UInt64(buffer.count - filled), file.size - offset, UInt64(UInt32.max)))
            let got = try dataRead(data.read(file.inode, offset: offset, into: buffer.baseAddress! + filled, count: want),
                                   file: file.target, image: data.path, fix: "copy or convert it again")
            filled += got
            offset += UInt64(got)
        }
        return filled
    }
}
