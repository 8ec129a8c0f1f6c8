import Foundation
import Testing
import HuskCore
@testable import HuskTrust

@Suite struct PackageInventoryTests {
    let status = """
        Package: libssl3
        Status: install ok installed
        Priority: optional
        Architecture: amd64
        Source: openssl (3.0.11-1~deb12u2)
        Version: 3.0.11-1~deb12u2
        Description: Secure Sockets Layer toolkit
         This package is part of the OpenSSL project's implementation.
         .
         Package: fake-continuation-line

        Package: gone
        Status: deinstall ok config-files
        Version: 1.0
        Architecture: all

        Package: zlib1g
        Status: install ok installed
        Architecture: amd64
        Source: zlib
        Version: 1:1.2.13.dfsg-1

        """

    @Test func dpkgStatusGivesInstalledPackagesWithTheirSources() {
        let inventory = PackageInventory(files: ["var/lib/dpkg/status": Array(status.utf8)])
        #expect(inventory.databases == ["var/lib/dpkg/status"])
        #expect(inventory.packages == [
            .init(type: "deb", name: "libssl3", version: "3.0.11-1~deb12u2", architecture: "amd64",
                  source: "openssl", sourceVersion: "3.0.11-1~deb12u2"),
            .init(type: "deb", name: "zlib1g", version: "1:1.2.13.dfsg-1", architecture: "amd64",
                  source: "zlib", sourceVersion: "1:1.2.13.dfsg-1"),
        ])
    }

    @Test func apkDatabaseAndOSRelease() {
        let apk = "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n"
        let inventory = PackageInventory(files: ["lib/apk/db/installed": Array(apk.utf8),
                                                 "usr/lib/os-release": Array("ID=alpine\nVERSION_ID='3.19.1'\n".utf8)])
        #expect(inventory.os == .init(id: "alpine", versionID: "3.19.1", prettyName: nil))
        #expect(inventory.packages.map { "\($0.name) \($0.version) \($0.source ?? "")" }
            == ["libcrypto3 3.1.4-r5 openssl", "musl 1.2.4-r2 musl"])
    }

    @Test func distrolessStatusFilesRepeatingTheStatusFileCountOnce() {
        let one = "Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nSource: glibc\n"
        let inventory = PackageInventory(files: ["var/lib/dpkg/status.d/libc6": Array(one.utf8),
                                                 "var/lib/dpkg/status": Array((one + "Status: install ok installed\n").utf8)])
        #expect(inventory.packages.count == 1 && inventory.packages[0].source == "glibc")
    }

    @Test func onlyTheDatabasesAreKeptDuringConversion() {
        for path in ["var/lib/dpkg/status", "var/lib/dpkg/status.d/libc6", "lib/apk/db/installed", "etc/os-release"] {
            #expect(PackageInventory.wants(path), "\(path)")
        }
        for path in ["var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite-wal", "var/lib/rpm/Packages",
                     "usr/lib/sysimage/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/Packages.db"] {
            #expect(PackageInventory.wants(path), "\(path)")
        }
        for path in ["var/lib/dpkg/status-old", "var/lib/dpkg/status.d/libc6.md5sums", "usr/bin/dpkg", "etc/passwd",
                     "var/lib/rpm/Name", "var/lib/rpm/rpmdb.sqlite-shm", "var/lib/rpm/.rpm.lock", "rpmdb.sqlite"] {
            #expect(!PackageInventory.wants(path), "\(path)")
        }
    }

    @Test func sbomsAreReproducibleAndUsePackageURLs() throws {
        let inventory = PackageInventory(files: ["var/lib/dpkg/status": Array(status.utf8),
                                                 "etc/os-release": Array("ID=debian\nVERSION_ID=\"12\"\n".utf8)])
        let digest = Digest(sha256Hex: String(repeating: "12", count: 32))
        let sbom = SBOM(subject: .init(name: "app", digest: digest, source: "docker://reg/app:1",
                                       created: "2024-01-01T00:00:00.123Z"), inventory: inventory)
        #expect(sbom.purl(inventory.packages[1]) == "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12")
        for format in SBOM.Format.allCases {
            #expect(try sbom.encoded(format) == sbom.encoded(format))
        }
        let spdx = try #require(try JSONSerialization.jsonObject(with: Data(sbom.encoded(.spdxJSON))) as? [String: Any])
        #expect((spdx["creationInfo"] as? [String: Any])?["created"] as? String == "2024-01-01T00:00:00Z")
        #expect((spdx["packages"] as? [Any])?.count == 3, "the image and its two packages")
        let cdx = try #require(try JSONSerialization.jsonObject(with: Data(sbom.encoded(.cycloneDXJSON))) as? [String: Any])
        let serial = try #require(cdx["serialNumber"] as? String)
        #expect(serial.range(of: "^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$",
                             options: .regularExpression) != nil)
    }

    @Test func rpmLinesGiveEpochVersionReleaseAndTheSourcePackage() throws {
        let libs = try RPMDatabase.package(line: "openssl-libs\t1\t3.0.7\t27.el9\tx86_64\topenssl-3.0.7-27.el9.src.rpm")
        #expect(libs == PackageInventory.Package(type: "rpm", name: "openssl-libs", version: "1:3.0.7-27.el9",
                                                 architecture: "x86_64", source: "openssl", sourceVersion: "1:3.0.7-27.el9"))
        let plain = try RPMDatabase.package(line: "python3-pip-wheel\t\t23.2.1\t4.fc40\tnoarch\tpython-pip-23.2.1-4.fc40.src.rpm")
        #expect(plain.version == "23.2.1-4.fc40" && plain.source == "python-pip" && plain.sourceVersion == "23.2.1-4.fc40")
        // No source rpm recorded: the package is its own source.
        let bare = try RPMDatabase.package(line: "local\t\t1.0\t1\t\t")
        #expect(bare.source == "local" && bare.architecture == nil && bare.version == "1.0-1")
        for bad in ["", "too\tfew", "\t\t1\t1\tx86_64\tx-1-1.src.rpm", "a\t\t1\t1\tx86_64\tx.src.rpm\textra"] {
            #expect(throws: HuskError.self, "\(bad)") { try RPMDatabase.package(line: bad) }
        }
        #expect(RPMDatabase.sourcePackage("openssl.src.rpm") == nil)
        #expect(RPMDatabase.sourcePackage("a-b-c-1.0-1.nosrc.rpm")?.name == "a-b-c")
        #expect(RPMDatabase.sourcePackage("zlib-1.2.13-5.fc40") == nil, "not a source rpm's name")
    }

    @Test func rpmDatabasesArePickedAsRPMConfiguresThem() {
        let sqlite = "usr/lib/sysimage/rpm/rpmdb.sqlite", bdb = "var/lib/rpm/Packages"
        #expect(RPMDatabase.find(in: [bdb: [1], sqlite: [1]])?.path == sqlite)
        #expect(RPMDatabase.find(in: [bdb: [1]])?.backend == "bdb_ro")
        #expect(RPMDatabase.find(in: ["var/lib/rpm/Packages.db": [1]])?.backend == nil)
        #expect(RPMDatabase.find(in: ["var/lib/dpkg/status": [1]]) == nil)
    }

    @Test func anUnreadableRPMDatabaseIsRecordedAsUnreadNotDropped() throws {
        let inventory = PackageInventory(files: ["usr/lib/sysimage/rpm/Packages.db": Array("ndb".utf8)])
        #expect(inventory.packages.isEmpty && inventory.databases.isEmpty)
        #expect(inventory.unread?.map(\.database) == ["usr/lib/sysimage/rpm/Packages.db"])
        // Complete inventories keep the bytes they had before `unread` existed.
        let complete = try PackageInventory(files: ["var/lib/dpkg/status": Array(status.utf8)]).encoded()
        #expect(!String(decoding: complete, as: UTF8.self).contains("unread"))
    }

    @Test func rpmPackageURLsCarryTheEpochAsAQualifier() {
        let inventory = PackageInventory(databases: [], os: .init(id: "rhel", versionID: "9.3", prettyName: nil), packages: [
            .init(type: "rpm", name: "openssl-libs", version: "1:3.0.7-27.el9", architecture: "x86_64", source: "openssl"),
        ])
        let sbom = SBOM(subject: .init(name: "app", digest: Digest(sha256Hex: String(repeating: "12", count: 32)),
                                       source: "x", created: nil), inventory: inventory)
        #expect(sbom.purl(inventory.packages[0]) == "pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.3&epoch=1")
    }
}
