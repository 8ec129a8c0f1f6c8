import HuskCore

/// The C library an image has, for `--bind-mpi`: host libraries bound into
/// a container are loaded by the image's glibc, so it must be at least as
/// new as the newest `GLIBC_x.y` they need.
public enum ImageLibc: Equatable, Sendable {
    case glibc(GlibcVersion)
    /// musl (Alpine): host glibc libraries cannot load at all.
    case musl
    /// No C library (a static busybox, distroless static).
    case none
}

public enum GlibcCheck {
    /// Where images keep libc.so.6 (Debian's multiarch directories, merged
    /// /usr or not; RHEL's lib64), relative to the image root.
    static func libcCandidates(machine: String) -> [String] {
        let triplet = HostLibraries.multiarchTriplet(machine)
        return ["usr/lib/\(triplet)/libc.so.6", "lib/\(triplet)/libc.so.6", "usr/lib64/libc.so.6", "lib64/libc.so.6",
                "usr/lib/libc.so.6", "lib/libc.so.6"]
    }

    /// The image's C library: the highest `GLIBC_x.y` its libc.so.6
    /// defines (its `.gnu.version_d`), else the version in the name the
    /// libc.so.6 symlink of older releases points to (`libc-2.28.so`).
    public static func imageLibc(_ image: RuntimeImage, machine: String) -> ImageLibc {
        for candidate in libcCandidates(machine: machine) {
            guard let resolved = image.resolve(candidate) else { continue }
            let name = String(resolved.split(separator: "/").last ?? "")
            if let bytes = try? image.readFile(resolved), let version = ELFFile(bytes: bytes)?.glibcDefined {
                return .glibc(version)
            }
            if let version = GlibcVersion(libcFileName: name) { return .glibc(version) }
        }
        let musl = ["lib/ld-musl-\(machine).so.1", "usr/lib/ld-musl-\(machine).so.1", "lib/libc.musl-\(machine).so.1"]
        if musl.contains(where: { image.resolve($0) != nil }) { return .musl }
        return .none
    }

    /// Throws one line when the image's C library cannot serve the host
    /// libraries `set` binds (`what`: the flag, for the message).
    public static func check(_ set: HostLibrarySet, image libc: ImageLibc, imageName: String,
                             what: String = "--bind-mpi") throws {
        let libraries = "the host's \(set.mpiName ?? "MPI") libraries"
        let needed = set.glibcNeeded.map { "glibc \($0) or newer" } ?? "glibc"
        switch libc {
        case .none:
            throw HuskError(.usage, "\(what): \(imageName) has no glibc (no libc.so.6 in the image: a static or busybox image), and \(libraries) need \(needed); use an image built on \(needed)")
        case .musl:
            throw HuskError(.usage, "\(what): \(imageName) has musl libc, not glibc, and \(libraries) need \(needed); use an image built on \(needed)")
        case .glibc(let version):
            if let required = set.glibcNeeded, version < required {
                throw HuskError(.usage, "\(what): \(imageName) has glibc \(version), older than the glibc \(required) \(libraries) need (\(set.glibcNeededBy ?? "a library") needs GLIBC_\(required)); use an image with glibc \(required) or newer")
            }
        }
    }
}
