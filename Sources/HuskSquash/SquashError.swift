import CLibSquashFS
import HuskCore

extension HuskError {
    /// A libsquashfs failure, with the library's error code spelled out.
    static func squashfs(_ code: Int32, _ action: String, path: String) -> HuskError {
        let reason: String
        switch code {
        case SQFS_ERROR_ALLOC.rawValue: reason = "out of memory"
        case SQFS_ERROR_IO.rawValue: reason = "I/O error (disk full or file unreadable?)"
        case SQFS_ERROR_COMPRESSOR.rawValue: reason = "compressor error"
        case SQFS_ERROR_CORRUPTED.rawValue: reason = "the file is corrupted"
        case SQFS_ERROR_UNSUPPORTED.rawValue: reason = "unsupported feature"
        case SQFS_ERROR_OVERFLOW.rawValue: reason = "a size or count overflows the format"
        case SQFS_ERROR_OUT_OF_BOUNDS.rawValue: reason = "an offset points outside the file"
        case -9: reason = "not a squashfs file (bad magic)"  // SFQS_ERROR_SUPER_MAGIC, misspelled upstream
        case -10: reason = "unsupported squashfs version"
        case SQFS_ERROR_SUPER_BLOCK_SIZE.rawValue: reason = "invalid block size"
        case SQFS_ERROR_NOT_DIR.rawValue: reason = "not a directory"
        case SQFS_ERROR_NO_ENTRY.rawValue: reason = "no such entry"
        case SQFS_ERROR_LINK_LOOP.rawValue: reason = "hard link loop"
        case SQFS_ERROR_NOT_FILE.rawValue: reason = "not a regular file"
        case SQFS_ERROR_ARG_INVALID.rawValue: reason = "invalid argument"
        case SQFS_ERROR_SEQUENCE.rawValue: reason = "calls out of sequence"
        default: reason = "error \(code)"
        }
        return HuskError(.squashfs, "\(path): \(action): \(reason)")
    }
}

/// Throws a `HuskError` for a non-zero libsquashfs return code.
@inline(__always)
func check(_ code: Int32, _ action: @autoclosure () -> String, path: String) throws {
    if code != 0 { throw HuskError.squashfs(code, action(), path: path) }
}

extension HuskError {
    /// A libsquashfs failure while reading an image. Bad bytes in the image are
    /// `.invalidImage` and say how to get a good copy; running out of memory,
    /// a failing disk and misuse of the library stay `.squashfs`.
    static func damagedImage(_ code: Int32, _ action: String, path: String) -> HuskError {
        let error = squashfs(code, action, path: path)
        switch code {
        case SQFS_ERROR_ALLOC.rawValue, SQFS_ERROR_IO.rawValue, SQFS_ERROR_ARG_INVALID.rawValue, SQFS_ERROR_SEQUENCE.rawValue:
            return error
        default:
            return HuskError(.invalidImage, error.message + " (a damaged image); copy or convert it again")
        }
    }
}

/// The byte count of a read of `file`'s data that made progress; otherwise the
/// image's fault in one line: a read error, or no bytes where the file has
/// more. `fix` says what to do (copy, or convert, the image again).
func dataRead(_ got: Int32, file: String, image: String, fix: String) throws -> Int {
    if got < 0 { throw HuskError.damagedImage(got, "reading \(file)", path: image) }
    guard got > 0 else {
        throw HuskError(.invalidImage, "\(image): \(file): file data cut short (a damaged image); \(fix)")
    }
    return Int(got)
}

/// Throws a `HuskError` for a non-zero libsquashfs return code from reading an image.
@inline(__always)
func checkRead(_ code: Int32, _ action: @autoclosure () -> String, path: String) throws {
    if code != 0 { throw HuskError.damagedImage(code, action(), path: path) }
}
