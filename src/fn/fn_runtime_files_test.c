/*
 * fn_runtime_files_test.c — the runtime clients compiled in by cmake/embed.cmake: both are
 * there under the paths fn_service_new writes and starts, whole (a NUL after the data, none
 * inside: they are text), and each speaks the Runtime API.
 */
#include "fn/runtime_files.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The entry for path, or an empty one. */
static const fn_runtime_file *find(const char *path)
{
    static const fn_runtime_file none = {"", (const unsigned char *)"", 0};
    for (size_t i = 0; i < fn_n_runtime_files; i++)
        if (strcmp(fn_runtime_files[i].path, path) == 0)
            return &fn_runtime_files[i];
    return &none;
}

static void both_clients_are_embedded(void **state)
{
    (void)state;
    const fn_runtime_file *node = find("nodejs/baton-runtime.mjs");
    const fn_runtime_file *python = find("python/baton_runtime.py");
    assert_string_equal(node->path, "nodejs/baton-runtime.mjs");
    assert_string_equal(python->path, "python/baton_runtime.py");
    assert_true(node->len > 1000);
    assert_true(python->len > 1000);
    assert_memory_equal(node->data, "// baton-runtime.mjs", 20);
    assert_memory_equal(python->data, "\"\"\"baton_runtime.py", 19);
    assert_non_null(strstr((const char *)node->data, "'/2018-06-01/runtime'"));
    assert_non_null(strstr((const char *)python->data, "\"/2018-06-01/runtime\""));
    assert_non_null(strstr((const char *)python->data, "\nif __name__ == \"__main__\":\n"));
}

static void entries_are_whole_and_sorted(void **state)
{
    (void)state;
    assert_true(fn_n_runtime_files >= 2);
    for (size_t i = 0; i < fn_n_runtime_files; i++) {
        const fn_runtime_file *f = &fn_runtime_files[i];
        assert_int_equal(f->data[f->len], 0);
        assert_int_equal(strlen((const char *)f->data), f->len);
        assert_null(strstr(f->path, ".."));
        assert_true(f->path[0] != '/');
        if (i > 0)
            assert_true(strcmp(fn_runtime_files[i - 1].path, f->path) < 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_clients_are_embedded),
        cmocka_unit_test(entries_are_whole_and_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
