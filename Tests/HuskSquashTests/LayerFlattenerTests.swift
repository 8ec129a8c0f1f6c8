import Testing
import HuskCore
import HuskOCI
@testable import HuskSquash

/// Keeps file data in memory and records which paths were stored, so tests
/// can prove shadowed files are never read.
final class MemorySink: FileDataSink {
    var data: [[UInt8]] = []
    var storedPaths: [String] = []

    func store(_ content: FileContent, path: String,
               produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        var bytes: [UInt8] = []
        try produce { bytes.append(contentsOf: $0) }
        content.dataHandle = data.count
        data.append(bytes)
        storedPaths.append(path)
    }
}

/// A layer as (entry, data) pairs.
typealias Layer = [(TarEntry, String)]

func file(_ path: String, _ text: String = "", mode: UInt16 = 0o644, uid: UInt32 = 0) -> (TarEntry, String) {
    (TarEntry(path: path, kind: .regular, size: Int64(text.utf8.count), permissions: mode, uid: uid), text)
}
func dir(_ path: String, mode: UInt16 = 0o755) -> (TarEntry, String) {
    (TarEntry(path: path, kind: .directory, permissions: mode), "")
}
func link(_ path: String, to target: String) -> (TarEntry, String) {
    (TarEntry(path: path, kind: .hardlink, linkTarget: target), "")
}
func symlink(_ path: String, to target: String) -> (TarEntry, String) {
    (TarEntry(path: path, kind: .symlink, linkTarget: target, permissions: 0o777), "")
}

/// Flattens `layers` (bottom first) the way `ImageConverter` does, including the
/// second pass for shadowed hard-link targets.
func flatten(_ layers: [Layer]) throws -> (LayerFlattener, MemorySink) {
    let sink = MemorySink()
    let flattener = LayerFlattener(sink: sink)
    for (index, layer) in layers.enumerated().reversed() {
        flattener.beginLayer(index: index, name: "layer \(index + 1)")
        for (entry, text) in layer {
            try flattener.add(entry) { consume in try Array(text.utf8).withUnsafeBytes { try consume($0) } }
        }
        if !flattener.recaptures.isEmpty {
            for (entry, text) in layer {
                try flattener.recapture(entry) { consume in try Array(text.utf8).withUnsafeBytes { try consume($0) } }
            }
        }
    }
    try flattener.finish()
    return (flattener, sink)
}

/// `path → description` of the final tree, e.g. "f:hello", "d:755", "l:target".
func listing(_ flattener: LayerFlattener, _ sink: MemorySink) -> [String: String] {
    var result: [String: String] = [:]
    func walk(_ node: TreeNode, _ path: String) {
        for (name, child) in node.sortedChildren {
            let childPath = path.isEmpty ? name : "\(path)/\(name)"
            switch child.kind {
            case .directory:
                result[childPath] = "d:" + String(child.metadata.permissions, radix: 8)
                walk(child, childPath)
            case .file(let content):
                result[childPath] = "f:" + String(decoding: sink.data[content.resolved.dataHandle!], as: UTF8.self)
            case .symlink(let target): result[childPath] = "l:" + target
            default: result[childPath] = "other"
            }
        }
    }
    walk(flattener.root, "")
    return result
}

@Suite struct LayerFlattenerTests {
    @Test func directoriesListInByteOrder() {
        // strcmp order, as squashfs readers binary-search it: not Unicode order.
        let names = ["b", "é", "a", "Z", "ab", "a\u{301}", "", "~"]
        let sorted = names.sorted(by: TreeNode.precedesInByteOrder)
        #expect(sorted == names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        #expect(sorted == ["", "Z", "a", "ab", "a\u{301}", "b", "~", "é"])
    }

    @Test func upperLayerWinsAndShadowedDataIsNeverRead() throws {
        let (tree, sink) = try flatten([
            [dir("etc"), file("etc/motd", "old"), file("etc/keep", "keep")],
            [file("etc/motd", "new")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["etc/motd"] == "f:new")
        #expect(entries["etc/keep"] == "f:keep")
        #expect(sink.storedPaths.filter { $0 == "etc/motd" }.count == 1)
    }

    @Test func whiteoutDeletesLowerFileAndDirectory() throws {
        let (tree, sink) = try flatten([
            [dir("a"), file("a/gone", "x"), dir("a/sub"), file("a/sub/deep", "y"), file("a/stay", "z")],
            [file("a/.wh.gone"), file("a/.wh.sub")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["a/gone"] == nil)
        #expect(entries["a/sub"] == nil)
        #expect(entries["a/sub/deep"] == nil)
        #expect(entries["a/stay"] == "f:z")
        #expect(!sink.storedPaths.contains("a/sub/deep"))
    }

    @Test(arguments: [true, false])
    func whiteoutAndNewDirectoryInOneLayer(whiteoutFirst: Bool) throws {
        // OCI: a whiteout applies to lower layers only, so the same layer may
        // delete usr/share/doc and create a new usr/share/doc.
        let top: Layer = whiteoutFirst
            ? [file("usr/share/.wh.doc"), dir("usr/share/doc", mode: 0o700), file("usr/share/doc/README", "new")]
            : [dir("usr/share/doc", mode: 0o700), file("usr/share/doc/README", "new"), file("usr/share/.wh.doc")]
        let (tree, sink) = try flatten([
            [dir("usr"), dir("usr/share"), dir("usr/share/doc"), file("usr/share/doc/old", "o")],
            top,
        ])
        let entries = listing(tree, sink)
        #expect(entries["usr/share/doc"] == "d:700")
        #expect(entries["usr/share/doc/README"] == "f:new")
        #expect(entries["usr/share/doc/old"] == nil)
    }

    @Test func whiteoutBelowAnImplicitDirectoryDropsLowerMetadata() throws {
        let (tree, sink) = try flatten([
            [dir("srv", mode: 0o700), file("srv/old", "o")],
            [file(".wh.srv")],
            [file("srv/new", "n")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["srv"] == "d:755")
        #expect(entries["srv/old"] == nil)
        #expect(entries["srv/new"] == "f:n")
    }

    @Test func opaqueDirectoryHidesOnlyLowerContents() throws {
        let (tree, sink) = try flatten([
            [dir("cfg"), file("cfg/old", "1")],
            [dir("cfg", mode: 0o700), file("cfg/.wh..wh..opq"), file("cfg/new", "2")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["cfg"] == "d:700")
        #expect(entries["cfg/old"] == nil)
        #expect(entries["cfg/new"] == "f:2")
    }

    @Test func fileReplacedByDirectoryAndBack() throws {
        let (tree, sink) = try flatten([
            [file("x", "file"), dir("y"), file("y/inner", "i")],
            [dir("x"), file("x/child", "c"), file("y", "now a file")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["x"] == "d:755")
        #expect(entries["x/child"] == "f:c")
        #expect(entries["y"] == "f:now a file")
        #expect(entries["y/inner"] == nil)
    }

    @Test func directoryReplacedByFileThenDirectoryDropsOldChildren() throws {
        let (tree, sink) = try flatten([
            [dir("a"), file("a/x", "x")],
            [file("a", "file")],
            [dir("a"), file("a/y", "y")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["a/y"] == "f:y")
        #expect(entries["a/x"] == nil)
    }

    @Test func hardlinksShareOneInodeWithinALayer() throws {
        let (tree, sink) = try flatten([[dir("bin"), file("bin/busybox", "BB", mode: 0o755), link("bin/sh", to: "bin/busybox")]])
        let entries = listing(tree, sink)
        #expect(entries["bin/sh"] == "f:BB")
        guard case .file(let a) = tree.root.children["bin"]!.children["busybox"]!.kind,
              case .file(let b) = tree.root.children["bin"]!.children["sh"]!.kind else {
            Issue.record("not files"); return
        }
        #expect(a.resolved === b.resolved)
        #expect(sink.data.count == 1)
    }

    @Test func hardlinkToAFileOfALowerLayer() throws {
        let (tree, sink) = try flatten([
            [dir("bin"), file("bin/busybox", "BB", mode: 0o755)],
            [link("bin/ls", to: "/bin/busybox")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["bin/ls"] == "f:BB")
        #expect(entries["bin/busybox"] == "f:BB")
        #expect(sink.data.count == 1, "the lower file is stored once and shared")
    }

    @Test func hardlinkToALowerFileThatIsLaterDeleted() throws {
        // Layer 2 links to layer 1's file, layer 3 deletes the original name:
        // the link keeps layer 1's content.
        let (tree, sink) = try flatten([
            [file("orig", "data")],
            [link("copy", to: "orig")],
            [file(".wh.orig")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["orig"] == nil)
        #expect(entries["copy"] == "f:data")
    }

    @Test func hardlinkToAFileShadowedInItsOwnLayer() throws {
        // The link's target is replaced by an upper layer, so its first reading
        // was skipped; the second pass over the layer supplies it.
        let (tree, sink) = try flatten([
            [file("target", "lower"), link("alias", to: "target")],
            [file("target", "upper")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["target"] == "f:upper")
        #expect(entries["alias"] == "f:lower")
    }

    @Test func hardlinkToMissingTargetIsAnError() throws {
        let error = try #require(throws: HuskError.self) { try flatten([[link("a", to: "nowhere")]]) }
        #expect(error.code == .missingLinkTarget)
        #expect(error.message.contains("missing"))
    }

    @Test(arguments: ["../etc/passwd", "/../x", "a/../../b"])
    func pathsEscapingTheRootAreErrors(_ path: String) throws {
        let error = try #require(throws: HuskError.self) { try flatten([[file(path, "x")]]) }
        #expect(error.code == .unsafePath)
        #expect(error.message.contains("escapes the image root"))
    }

    @Test func hardlinkEscapingTheRootIsAnError() throws {
        let error = try #require(throws: HuskError.self) { try flatten([[link("a", to: "../../etc/shadow")]]) }
        #expect(error.code == .unsafePath)
    }

    @Test func whiteoutOfDotDotIsAnError() throws {
        let error = try #require(throws: HuskError.self) { try flatten([[dir("a")], [file("a/.wh..."), file("a/x")]]) }
        #expect(error.code == .unsafePath)
    }

    @Test func harmlessDotDotIsCleaned() throws {
        let (tree, sink) = try flatten([[dir("a"), file("a/../b", "ok"), file("./c", "c")]])
        let entries = listing(tree, sink)
        #expect(entries["b"] == "f:ok")
        #expect(entries["c"] == "f:c")
    }

    @Test func symlinksAreStoredNotFollowed() throws {
        let (tree, sink) = try flatten([
            [dir("usr"), dir("usr/lib"), symlink("lib", to: "usr/lib"), symlink("evil", to: "../../../../etc")],
            [file("lib/added", "x")],  // a path under a lower symlink: never written through it
        ])
        let entries = listing(tree, sink)
        #expect(entries["evil"] == "l:../../../../etc")
        #expect(entries["lib"] == "d:755", "the implicit parent directory replaces the symlink")
        #expect(entries["lib/added"] == "f:x")
        #expect(entries["usr/lib/added"] == nil)
    }

    @Test func implicitParentsGetLowerLayerMetadata() throws {
        let (tree, sink) = try flatten([
            [dir("opt", mode: 0o750)],
            [file("opt/tool/run", "r")],
        ])
        let entries = listing(tree, sink)
        #expect(entries["opt"] == "d:750")
        #expect(entries["opt/tool"] == "d:755")
        #expect(entries["opt/tool/run"] == "f:r")
    }

    @Test func setuidBitsAndOwnersAreKeptAsStored() throws {
        let (tree, _) = try flatten([[file("su", "s", mode: 0o4755, uid: 1000)]])
        guard case .file(let content) = tree.root.children["su"]!.kind else { Issue.record("not a file"); return }
        #expect(content.metadata.permissions == 0o4755)
        #expect(content.metadata.uid == 1000)
    }
}
