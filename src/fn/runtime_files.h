/*
 * runtime_files.h — the runtime clients that ship inside the binary (runtime/ in the source
 * tree, turned into C arrays at build time by cmake/embed.cmake). fn_service_new writes them
 * under <data>/runtime/ (each path below that folder), replacing what differs, and starts
 *
 *   nodejs: node <data>/runtime/nodejs/baton-runtime.mjs
 *   python: python3 <data>/runtime/python/baton_runtime.py
 *
 * with the function's environment (_HANDLER, LAMBDA_TASK_ROOT, AWS_LAMBDA_RUNTIME_API, …)
 * and the task root as the working directory.
 */
#ifndef BT_FN_RUNTIME_FILES_H
#define BT_FN_RUNTIME_FILES_H

#include <stddef.h>

typedef struct fn_runtime_file {
    const char *path; /* "nodejs/baton-runtime.mjs" */
    const unsigned char *data;
    size_t len;
} fn_runtime_file;

extern const fn_runtime_file fn_runtime_files[];
extern const size_t fn_n_runtime_files;

#endif
