#include "CFuzzDriver.h"
#include <stddef.h>
#include <stdint.h>

/* SwiftPM renames a Swift executable's entry point on Linux (so tests can link
 * the module) and defines main() as that name, so libFuzzer's own main() is
 * never used: the Swift main calls libFuzzer's driver through this instead.
 * Both functions below are defined elsewhere: the driver in libFuzzer
 * (linked by -sanitize=fuzzer), the callback by the fuzz target (@_cdecl). */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int husk_fuzz_run(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

/* Debian's libsquashfs has no coverage instrumentation, so libFuzzer cannot
 * see an input get further into the image. libFuzzer reads the bytes of this
 * section as extra coverage counters (cleared before each input); the fuzz
 * target sets them from what it observes (entries walked, bytes read, which
 * steps succeeded), so inputs that reach more of the format are kept. */
__attribute__((section("__libfuzzer_extra_counters")))
static uint8_t progress_counters[HUSK_FUZZ_PROBES * 65];

void husk_fuzz_progress(unsigned probe, unsigned long long value) {
    if (probe >= HUSK_FUZZ_PROBES) return;
    unsigned bucket = value == 0 ? 0 : 64 - (unsigned)__builtin_clzll(value);
    uint8_t *counter = &progress_counters[probe * 65 + bucket];
    if (*counter < 255) (*counter)++;
}
