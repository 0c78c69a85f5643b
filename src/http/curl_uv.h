/*
 * curl_uv.h — outgoing transfers (libcurl easy handles) run by curl's multi interface on a
 * libuv loop (curl_uv.c). One http_curl per loop and user; everything on the loop's thread.
 */
#ifndef BT_HTTP_CURL_UV_H
#define BT_HTTP_CURL_UV_H

#include <curl/curl.h>
#include <uv.h>

typedef struct http_curl http_curl;
typedef void (*http_curl_done)(void *ctx, CURL *easy, CURLcode code);

http_curl *http_curl_new(uv_loop_t *loop);
/* Runs easy; done(ctx, easy, code) on the loop when it ends (inside this call only when
 * curl refuses the handle). The caller keeps ownership of easy and cleans it up after done
 * (or after http_curl_remove). easy's CURLOPT_PRIVATE is taken. */
void http_curl_add(http_curl *c, CURL *easy, http_curl_done done, void *ctx);
/* Abandons one running transfer: done is not called; the caller frees easy. */
void http_curl_remove(http_curl *c, CURL *easy);
/* Abandons every transfer (done is not called); frees once the handles have closed. */
void http_curl_free(http_curl *c);

#endif
