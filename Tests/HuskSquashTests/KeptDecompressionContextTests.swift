import CLibSquashFS
import CSquashDecompressor
import Testing

/// husk_sqfs_keep_decompression_context: the zstd decompressor that keeps
/// one context must give libsquashfs's own results, block after block.
struct KeptDecompressionContextTests {
    /// A compressor as SquashReader and SquashWriter create one, with its configuration.
    static func compressor(_ id: SQFS_COMPRESSOR, flags: UInt16 = 0)
        throws -> (UnsafeMutablePointer<sqfs_compressor_t>, sqfs_compressor_config_t) {
        var config = sqfs_compressor_config_t()
        try #require(sqfs_compressor_config_init(&config, id, 131_072, flags) == 0)
        var created: UnsafeMutablePointer<sqfs_compressor_t>?
        try #require(sqfs_compressor_create(&config, &created) == 0)
        return (try #require(created), config)
    }

    static func zstdReader() throws -> UnsafeMutablePointer<sqfs_compressor_t> {
        var (plain, config) = try compressor(SQFS_COMP_ZSTD, flags: UInt16(SQFS_COMP_FLAG_UNCOMPRESS.rawValue))
        let kept = try #require(husk_sqfs_keep_decompression_context(plain, &config))
        #expect(kept != plain, "a zstd reader is wrapped")
        return kept
    }

    static func compress(_ data: [UInt8]) throws -> [UInt8] {
        let (writer, _) = try compressor(SQFS_COMP_ZSTD)
        defer { husk_sqfs_destroy(writer) }
        var out = [UInt8](repeating: 0, count: data.count)
        let size = writer.pointee.do_block(writer, data, UInt32(data.count), &out, UInt32(out.count))
        try #require(size > 0, "the sample compresses")
        return Array(out.prefix(Int(size)))
    }

    static func decompress(_ reader: UnsafeMutablePointer<sqfs_compressor_t>, _ block: [UInt8], room: Int) -> (Int32, [UInt8]) {
        var out = [UInt8](repeating: 0, count: room)
        let size = reader.pointee.do_block(reader, block, UInt32(block.count), &out, UInt32(out.count))
        return (size, Array(out.prefix(max(Int(size), 0))))
    }

    @Test func decompressesBlockAfterBlockLikeLibsquashfs() throws {
        let reader = try Self.zstdReader()
        defer { husk_sqfs_destroy(reader) }
        let texts = (0..<3).map { n in (0..<4000).map { UInt8(truncatingIfNeeded: ($0 * (n + 3)) % 61 + 32) } }
        for text in texts + texts {
            let (size, out) = Self.decompress(reader, try Self.compress(text), room: 8192)
            #expect(size == Int32(text.count))
            #expect(out.elementsEqual(text), "the block comes back as it went in")
        }
    }

    @Test func damagedOrTooSmallGivesTheCompressorError() throws {
        let reader = try Self.zstdReader()
        defer { husk_sqfs_destroy(reader) }
        let text = [UInt8]((0..<4000).map { UInt8($0 % 7 + 65) })
        var block = try Self.compress(text)
        #expect(Self.decompress(reader, block, room: 100).0 == SQFS_ERROR_COMPRESSOR.rawValue)
        block[block.count / 2] ^= 0xFF
        block.removeLast(3)
        #expect(Self.decompress(reader, block, room: 8192).0 == SQFS_ERROR_COMPRESSOR.rawValue)
        // The context is usable again after an error.
        #expect(Self.decompress(reader, try Self.compress(text), room: 8192).1.elementsEqual(text))
    }

    @Test func otherCompressorsAndWritersAreLeftAsTheyAre() throws {
        for (id, flags) in [(SQFS_COMP_GZIP, UInt16(SQFS_COMP_FLAG_UNCOMPRESS.rawValue)), (SQFS_COMP_ZSTD, UInt16(0))] {
            var (plain, config) = try Self.compressor(id, flags: flags)
            #expect(husk_sqfs_keep_decompression_context(plain, &config) == plain)
            husk_sqfs_destroy(plain)
        }
    }
}
