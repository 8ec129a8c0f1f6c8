/// Values a container gets when its image sets none (DESIGN.md §3), shared
/// by the runtime and by what conversion derives from an image.
public enum StandardEnvironment {
    public static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}
