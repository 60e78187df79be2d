/*
 * tap.h — a tiny TAP harness for the C tests (crun's tests_libcrun_* style).
 *
 * A test file defines `static const tap_test_t tests[] = {{"name", fn}, ...};` and ends
 * with `TAP_MAIN(tests)`. Each fn returns TAP_PASS (0), TAP_FAIL (-1) or TAP_SKIP (77).
 * Output: "1..N", then "ok N - name", "not ok N - name" or "ok N - name # SKIP"; the
 * process exits 1 when any test failed. Diagnostics go to stdout as "# ..." lines.
 */
#ifndef BAI_TAP_H
#define BAI_TAP_H

#include <stdio.h>

#define TAP_PASS 0
#define TAP_FAIL (-1)
#define TAP_SKIP 77

typedef struct {
    const char *name;
    int (*fn)(void);
} tap_test_t;

/* Fail the current test (return -1) with a diagnostic when cond is false. */
#define TAP_CHECK(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("# check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);                     \
            return TAP_FAIL;                                                                       \
        }                                                                                          \
    } while (0)

/* Print a diagnostic line. */
#define TAP_DIAG(...)                                                                              \
    do {                                                                                           \
        printf("# ");                                                                              \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
    } while (0)

static inline int tap_run(const tap_test_t *tests, size_t n)
{
    int failed = 0;
    printf("1..%zu\n", n);
    fflush(stdout);
    for (size_t i = 0; i < n; i++) {
        int rc = tests[i].fn();
        if (rc == TAP_SKIP) {
            printf("ok %zu - %s # SKIP\n", i + 1, tests[i].name);
        } else if (rc == TAP_PASS) {
            printf("ok %zu - %s\n", i + 1, tests[i].name);
        } else {
            printf("not ok %zu - %s\n", i + 1, tests[i].name);
            failed++;
        }
        fflush(stdout);
    }
    return failed ? 1 : 0;
}

#define TAP_MAIN(tests)                                                                            \
    int main(void)                                                                                 \
    {                                                                                              \
        return tap_run(tests, sizeof(tests) / sizeof((tests)[0]));                                 \
    }

#endif
