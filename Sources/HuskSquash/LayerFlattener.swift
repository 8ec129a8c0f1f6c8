import HuskCore
import HuskOCI

/// Receives the data of every regular file that survives flattening.
protocol FileDataSink: AnyObject {
    /// Streams a file's data: `produce` calls its argument once per chunk.
    /// Sets `content.dataHandle`.
    func store(_ content: FileContent, path: String,
               produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws
}

/// Flattens layers **newest first** into one `TreeNode` tree, so each path is
/// decided by the first (highest) layer that names it and a file hidden by a
/// whiteout or overwritten above is never read past its header, let alone
/// compressed (DESIGN.md §2). The rules are those of the OCI image spec:
/// `.wh.NAME` deletes NAME from lower layers, `.wh..wh..opq` hides a
/// directory's lower contents, a non-directory replaces a lower directory with
/// everything under it, hard links may name files of the same or a lower layer.
final class LayerFlattener {
    let root = TreeNode(kind: .directory, metadata: .implicitDirectory, layer: Int.max, isImplicit: true)
    private let sink: FileDataSink

    private var layer = Int.max
    private var layerName = ""
    /// Regular files of the current layer skipped as shadowed; a later hard
    /// link in the same layer to one of them needs its data after all.
    private var shadowedInLayer: Set<String> = []
    /// Shadowed files of the current layer that a hard link needs: filled by a
    /// second pass over the layer (`recapture`), which is rare.
    private(set) var recaptures: [String: [FileContent]] = [:]
    /// Hard links whose target was not (yet) seen: filled from lower layers.
    private var pendingLinks: [String: [PendingLink]] = [:]
    private(set) var droppedEntries = 0

    private struct PendingLink {
        var placeholder: FileContent
        var linkPath: String
        var layerName: String
    }

    init(sink: FileDataSink) { self.sink = sink }

    func beginLayer(index: Int, name: String) {
        precondition(index < layer, "layers must be applied newest first")
        layer = index
        layerName = name
        shadowedInLayer = []
        recaptures = [:]
    }

    /// Applies one header; `produce` streams its data when the entry is kept.
    func add(_ entry: TarEntry, produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let components = try LayerPath.components(entry.path, layer: layerName)
        guard let name = components.last else {
            // "./": the root directory's own metadata.
            if entry.kind == .directory && root.isImplicit {
                root.metadata = EntryMetadata(entry)
                root.isImplicit = false
            }
            return
        }
        let parentPath = components.dropLast()
        let key = components.joined(separator: "/")

        if name == LayerPath.opaqueMarker {
            guard let directory = visibleDirectory(parentPath) else { return }
            directory.hidesBelow = max(directory.hidesBelow, layer)
            return
        }
        if let hidden = try LayerPath.whiteoutTarget(name, path: entry.path, layer: layerName) {
            guard let directory = visibleDirectory(parentPath) else { return }
            if let existing = directory.children[hidden] {
                // A directory named by this layer or an upper one stays, but
                // everything lower at this path is deleted, its metadata too.
                if existing.isDirectory { existing.hidesBelow = max(existing.hidesBelow, layer) }
            } else {
                directory.children[hidden] = TreeNode(kind: .whiteout, metadata: .implicitDirectory, layer: layer)
            }
            return
        }

        switch entry.kind {
        case .hardlink:
            try addHardlink(entry, key: key, name: name, parentPath: parentPath)
        case .regular:
            let placement = place(name: name, parentPath: parentPath, isDirectory: false)
            let waiting = pendingLinks.removeValue(forKey: key) ?? []
            guard placement != nil || !waiting.isEmpty else {
                shadowedInLayer.insert(key)
                return
            }
            let content = FileContent(metadata: EntryMetadata(entry), size: entry.size)
            try sink.store(content, path: key, produce: produce)
            for link in waiting { link.placeholder.forward = content }
            if let (directory, name) = placement {
                directory.children[name] = TreeNode(kind: .file(content), metadata: content.metadata, layer: layer)
            }
        case .directory:
            guard let (directory, name) = place(name: name, parentPath: parentPath, isDirectory: true) else { return }
            if let existing = directory.children[name], existing.isDirectory {
                existing.metadata = EntryMetadata(entry)
                existing.isImplicit = false
                existing.layer = layer
            } else {
                let node = TreeNode(kind: .directory, metadata: EntryMetadata(entry), layer: layer)
                // `.wh.NAME` and a new NAME/ in one layer: the whiteout still
                // deletes the lower NAME (it applies to lower layers only).
                if directory.children[name]?.isWhiteout == true { node.hidesBelow = layer }
                directory.children[name] = node
            }
        case .symlink, .characterDevice, .blockDevice, .fifo, .socket:
            guard let (directory, name) = place(name: name, parentPath: parentPath, isDirectory: false) else { return }
            let kind: TreeNode.Kind
            switch entry.kind {
            case .symlink: kind = .symlink(entry.linkTarget ?? "")
            case .characterDevice: kind = .characterDevice(major: entry.deviceMajor, minor: entry.deviceMinor)
            case .blockDevice: kind = .blockDevice(major: entry.deviceMajor, minor: entry.deviceMinor)
            case .fifo: kind = .fifo
            default: kind = .socket
            }
            directory.children[name] = TreeNode(kind: kind, metadata: EntryMetadata(entry), layer: layer)
        }
    }

    private func addHardlink(_ entry: TarEntry, key: String, name: String, parentPath: ArraySlice<String>) throws {
        let targetComponents = try LayerPath.components(entry.linkTarget ?? "", layer: layerName)
        guard !targetComponents.isEmpty else {
            throw HuskError(.unsafePath, "\(layerName): hard link \"\(entry.path)\" points at the image root (the layer is malformed or hostile)")
        }
        let targetKey = targetComponents.joined(separator: "/")
        let placement = place(name: name, parentPath: parentPath, isDirectory: false)
        let waiting = pendingLinks.removeValue(forKey: key) ?? []
        guard placement != nil || !waiting.isEmpty else { return }

        // A link to a non-file of this layer (a symlink, a FIFO): copy that entry.
        if let target = lookup(targetComponents), target.layer == layer {
            switch target.kind {
            case .file, .directory, .whiteout: break
            default:
                if let (directory, name) = placement {
                    directory.children[name] = TreeNode(kind: target.kind, metadata: target.metadata, layer: layer)
                }
                return
            }
        }
        let content = linkContent(targetKey: targetKey, targetComponents: targetComponents, entry: entry)
        for link in waiting { link.placeholder.forward = content }
        if let (directory, name) = placement {
            directory.children[name] = TreeNode(kind: .file(content), metadata: content.metadata, layer: layer)
        }
    }

    /// The content a hard link in the current layer shares: the target file
    /// of this layer, or a placeholder filled from this layer's second pass
    /// (target shadowed) or from a lower layer (target not in this layer).
    private func linkContent(targetKey: String, targetComponents: [String], entry: TarEntry) -> FileContent {
        if let target = lookup(targetComponents), target.layer == layer, case .file(let content) = target.kind {
            return content
        }
        let placeholder = FileContent(metadata: EntryMetadata(entry), size: 0)
        if shadowedInLayer.contains(targetKey) {
            recaptures[targetKey, default: []].append(placeholder)
        } else {
            pendingLinks[targetKey, default: []].append(
                PendingLink(placeholder: placeholder, linkPath: entry.path, layerName: layerName))
        }
        return placeholder
    }

    /// Second pass over the current layer for shadowed link targets.
    func recapture(_ entry: TarEntry, produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard entry.kind == .regular else { return }
        let key = try LayerPath.components(entry.path, layer: layerName).joined(separator: "/")
        guard let waiting = recaptures.removeValue(forKey: key) else { return }
        let content = FileContent(metadata: EntryMetadata(entry), size: entry.size)
        try sink.store(content, path: key, produce: produce)
        for placeholder in waiting { placeholder.forward = content }
    }

    /// After the last (lowest) layer: every hard link must have found its target.
    func finish() throws {
        if let (target, links) = pendingLinks.min(by: { $0.key < $1.key }), let link = links.first {
            throw HuskError(.missingLinkTarget,
                "\(link.layerName): hard link \"\(link.linkPath)\" points to \"\(target)\", which is missing from this and every lower layer (the image is malformed)")
        }
    }

    /// Walks to the directory at `path` as seen by the current layer, creating
    /// implicit directories; nil when an upper layer hides the path (a
    /// whiteout, an opaque directory, a non-directory in its place).
    private func visibleDirectory(_ path: ArraySlice<String>) -> TreeNode? {
        var directory = root
        for component in path {
            if directory.hidesBelow > layer { return nil }
            if let child = directory.children[component] {
                guard child.isDirectory else { return nil }
                directory = child
            } else {
                let child = TreeNode(kind: .directory, metadata: .implicitDirectory, layer: layer, isImplicit: true)
                directory.children[component] = child
                directory = child
            }
        }
        return directory.hidesBelow > layer ? nil : directory
    }

    /// Where a new entry `name` goes, or nil when an upper layer decided the path.
    private func place(name: String, parentPath: ArraySlice<String>, isDirectory: Bool) -> (TreeNode, String)? {
        guard let directory = visibleDirectory(parentPath) else { return nil }
        guard let existing = directory.children[name] else { return (directory, name) }
        if existing.layer == layer && !existing.isImplicit {
            // The same path twice in one tar: the later entry wins, as on extraction.
            return (existing.isDirectory && !isDirectory) ? nil : (directory, name)
        }
        if existing.isDirectory {
            // An implicit directory takes the metadata of the highest layer
            // that names it, unless the path was deleted at or above this layer.
            if isDirectory { return (existing.isImplicit && existing.hidesBelow <= layer) ? (directory, name) : nil }
            // A non-directory at this layer removed everything below it.
            existing.hidesBelow = max(existing.hidesBelow, layer)
            return nil
        }
        return nil
    }

    private func lookup(_ path: [String]) -> TreeNode? {
        var node = root
        for component in path {
            guard let child = node.children[component] else { return nil }
            node = child
        }
        return node
    }
}
