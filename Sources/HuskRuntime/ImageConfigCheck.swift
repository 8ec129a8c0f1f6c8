import HuskCore
import HuskOCI

/// The image config's run-time fields (Env, Entrypoint, Cmd, WorkingDir,
/// User) are data from whoever built the image: they reach the launch plan
/// only as values (DESIGN.md §3, trust boundary 1). A value no path,
/// variable or argument can carry (a NUL byte) is refused here, naming the
/// field, before anything runs.
enum ImageConfigCheck {
    static func validate(_ config: ImageConfiguration.ContainerConfig?, image: String) throws {
        guard let config else { return }
        func check(_ value: String, _ field: String) throws {
            guard !value.utf8.contains(0) else {
                throw HuskError(.invalidImage, "\(image): the image config's \(field) (\"\(PlanWriter.printable(value))\") holds a NUL byte; the image is malformed: rebuild or convert it from a fixed source")
            }
        }
        for (i, entry) in (config.Env ?? []).enumerated() { try check(entry, "Env entry \(i + 1)") }
        for (i, entry) in (config.Entrypoint ?? []).enumerated() { try check(entry, "Entrypoint item \(i + 1)") }
        for (i, entry) in (config.Cmd ?? []).enumerated() { try check(entry, "Cmd item \(i + 1)") }
        if let dir = config.WorkingDir { try check(dir, "WorkingDir") }
        if let user = config.User { try check(user, "User") }
    }
}
