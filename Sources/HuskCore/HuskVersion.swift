/// The version `husk --version` prints and `/.husk/source.json` records.
public enum HuskVersion {
    public static let current = "0.1.0"
}
