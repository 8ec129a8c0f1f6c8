import Testing
import HuskCore
@testable import HuskRuntime

@Suite struct BindOptionTests {
    @Test func singularityForms() throws {
        let binds = try BindOption.parse(["/data", "/scratch:/work:ro,/a:/b", "/x:ro", "rel:/r"], currentDirectory: "/home/u")
        #expect(binds.map(\.source) == ["/data", "/scratch", "/a", "/x", "/home/u/rel"])
        #expect(binds.map(\.destination) == ["/data", "/work", "/b", "/x", "/r"])
        #expect(binds.map(\.readOnly) == [false, true, false, true, false])
        #expect(binds.allSatisfy { $0.user })
    }

    @Test(arguments: ["", ":/x", "/a:b", "/a:/b:rx", "/a:/b:ro:extra"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: HuskError.self) { try BindOption.parse([text], currentDirectory: "/") }
    }

    @Test func normalizesPaths() {
        #expect(BindOption.normalize("/a/./b//c/../d") == "/a/b/d")
        #expect(BindOption.normalize("/../../etc") == "/etc")
    }
}

@Suite struct IdentityFilesTests {
    let user = UserIdentity(uid: 1001, gid: 1001, name: "alice", groupName: "alice", gecos: "Alice",
                            home: "/home/alice", shell: "/bin/bash")

    @Test func userReplacesClashingEntriesAndImageEntriesStay() {
        let passwd = IdentityFiles.passwd(image: "root:x:0:0:root:/root:/bin/sh\nold:x:1001:1001::/:/bin/sh\nalice:x:5:5::/:/bin/sh\n", user: user)
        #expect(passwd == "root:x:0:0:root:/root:/bin/sh\nalice:x:1001:1001:Alice:/home/alice:/bin/bash\n")
    }

    @Test func groupHasTheUserAndNogroup() {
        let group = IdentityFiles.group(image: "root:x:0:\n", user: user)
        #expect(group == "root:x:0:\nalice:x:1001:alice\nnogroup:x:65534:\n")
        let withNogroup = IdentityFiles.group(image: "nogroup:x:65534:\n", user: user)
        #expect(withNogroup.components(separatedBy: "65534").count == 2)
    }

    @Test func fakerootIsRootInside() {
        let inside = user.inside(fakeroot: true)
        #expect(inside.uid == 0 && inside.name == "root" && inside.home == "/root")
    }
}

/// Reads launch-plan records back (`KEY(:LENGTH:BYTES)*\n`), independently
/// of the writer, as `KEY` + fields joined by a visible separator.
func decodePlan(_ bytes: [UInt8]) -> [String] {
    var records: [String] = []
    var i = 0
    func number() -> Int {
        var n = 0
        while bytes[i] != UInt8(ascii: ":") { n = n * 10 + Int(bytes[i] - 48); i += 1 }
        i += 1
        return n
    }
    while i < bytes.count {
        var key: [UInt8] = []
        while bytes[i] != UInt8(ascii: ":") && bytes[i] != UInt8(ascii: "\n") { key.append(bytes[i]); i += 1 }
        var fields: [String] = []
        while bytes[i] == UInt8(ascii: ":") {
            i += 1
            let n = number()
            fields.append(String(decoding: bytes[i..<i + n], as: UTF8.self))
            i += n
        }
        precondition(bytes[i] == UInt8(ascii: "\n"), "record ends with a newline")
        i += 1
        records.append(String(decoding: key, as: UTF8.self) + "=" + fields.joined(separator: "|"))
    }
    return records
}

@Suite struct LaunchPlanEncodingTests {
    @Test func encodesLengthPrefixedRecordsInOrder() throws {
        var plan = LaunchPlan(name: "img", root: .squashfs(path: "/i.sqsh", offset: 0), outsideUID: 1001,
                              outsideGID: 1002, insideUID: 1001, insideGID: 1002)
        plan.binds = [.init(source: "/dev", destination: "/dev", readOnly: false, recursive: true, devices: true),
                      .init(source: "/d", destination: "/e", readOnly: true, user: true)]
        plan.files = [.init(destination: "/etc/passwd", mode: 0o644, content: "a:x:1:1::/:/bin/sh\n")]
        plan.environment = ["A=1", "B=x=y"]
        plan.arguments = ["sh", "-c", "echo hi"]
        plan.keptDescriptors = [7]
        plan.protectedPaths = [.init(path: "/home/u/.cache/husk", what: "image cache")]
        let records = decodePlan(try plan.encoded())
        #expect(records.first == "version=1")
        #expect(records.contains("image=/i.sqsh"))
        #expect(records.contains("bind=/dev|/dev|rw,rec,dev"))
        #expect(records.contains("bind=/d|/e|ro,user"))
        #expect(records.contains("file=/etc/passwd|644|a:x:1:1::/:/bin/sh\n"))
        #expect(records.filter { $0.hasPrefix("arg=") } == ["arg=sh", "arg=-c", "arg=echo hi"])
        #expect(records.filter { $0.hasPrefix("env=") } == ["env=A=1", "env=B=x=y"])
        #expect(records.contains("keep_fd=7"))
        #expect(records.contains("protect=/home/u/.cache/husk|image cache"))
    }

    /// The attack of a crafted image config: values holding the old
    /// separators (NUL, tab, newline) and text that looks like records.
    @Test func valuesCannotAddRecordsOrFields() throws {
        var plan = LaunchPlan(name: "img", root: .directory("/r"), outsideUID: 1, outsideGID: 1, insideUID: 1, insideGID: 1)
        let hostile = "X=1\nbind:4:/etc:4:/mnt:2:rw\ntmpfs=/x\t755"
        plan.environment = [hostile]
        plan.files = [.init(destination: "/etc/passwd", mode: 0o644, content: "a\0b\nbind:1:/:1:/:2:rw\n")]
        plan.arguments = ["sh"]
        let records = decodePlan(try plan.encoded())
        #expect(records.filter { $0.hasPrefix("bind=") || $0.hasPrefix("tmpfs=") }.isEmpty)
        #expect(records.contains("env=" + hostile))
        #expect(records.contains("file=/etc/passwd|644|a\0b\nbind:1:/:1:/:2:rw\n"), "file content is binary")
    }

    @Test(arguments: ["A=\0", "\0"])
    func refusesNulInTextFields(_ value: String) {
        var plan = LaunchPlan(name: "img", root: .directory("/r"), outsideUID: 1, outsideGID: 1, insideUID: 1, insideGID: 1)
        plan.arguments = ["sh"]
        plan.environment = [value]
        #expect(throws: HuskError.self) { try plan.encoded() }
        plan.environment = []
        plan.arguments = [value]
        #expect(throws: HuskError.self) { try plan.encoded() }
    }
}

@Suite struct SubordinateIDsTests {
    @Test func findsTheUsersRangeByNameOrUID() {
        let text = "other:100000:65536\nalice:165536:65536\n1002:231072:1000\n"
        #expect(SubordinateIDs.range(in: text, name: "alice", id: 1001)! == (165536, 65536))
        #expect(SubordinateIDs.range(in: text, name: "bob", id: 1002)! == (231072, 1000))
        #expect(SubordinateIDs.range(in: text, name: "carol", id: 1003) == nil)
        #expect(SubordinateIDs.range(in: "alice:x:1\nalice:5:0\n", name: "alice", id: 1) == nil)
    }

    @Test func planCarriesRangesOnlyWithFakeroot() throws {
        var plan = LaunchPlan(name: "i", root: .directory("/r"), outsideUID: 1001, outsideGID: 1001,
                              insideUID: 0, insideGID: 0)
        plan.subordinateIDs = SubordinateIDs(uidStart: 100000, uidCount: 65536, gidStart: 100000, gidCount: 65536,
                                             newuidmap: "/usr/bin/newuidmap", newgidmap: "/usr/bin/newgidmap")
        #expect(!(try decodePlan(plan.encoded())).contains { $0.hasPrefix("subuid=") })
        plan.fakeroot = true
        #expect(try decodePlan(plan.encoded()).contains("subuid=100000|65536"))
        #expect(try decodePlan(plan.encoded()).contains("newgidmap=/usr/bin/newgidmap"))
    }
}

@Suite struct ResourceLimitTests {
    @Test func parsesSoftAndHard() throws {
        let one = try ResourceLimit(parsing: "nofile=1024")
        #expect(one.soft == "1024" && one.hard == "1024")
        let two = try ResourceLimit(parsing: "core=0:unlimited")
        #expect(two.soft == "0" && two.hard == "unlimited")
    }

    @Test(arguments: ["nofile", "files=1", "nofile=x", "nofile=10:5", "nofile=unlimited:5", "nofile=1:2:3"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: HuskError.self) { try ResourceLimit(parsing: text) }
    }

    @Test func planRecordsNamespacesAndLimits() throws {
        var plan = LaunchPlan(name: "i", root: .directory("/r"), outsideUID: 1, outsideGID: 1, insideUID: 1, insideGID: 1)
        plan.netNamespace = true
        plan.utsNamespace = true
        plan.hostname = "node"
        plan.resourceLimits = [try ResourceLimit(parsing: "nproc=100:200")]
        let records = decodePlan(try plan.encoded())
        #expect(records.contains("net=1") && records.contains("ipc=0") && records.contains("uts=1"))
        #expect(records.contains("hostname=node"))
        #expect(records.contains("rlimit=nproc|100|200"))
    }
}
