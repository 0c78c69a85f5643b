/*
 * apply_route.c — the project's routes put into the route table: a new set built from the
 * file and swapped in whole, so a reload adds and removes routes at once and a request
 * being served keeps the route it matched. Nothing is stored: the file is the routes' only
 * record, read again at each start.
 *
 * A request template is text producing JSON, as in API Gateway: a template string is used
 * as it is; a mapping is written out as JSON ({taskToken: "$input.params('token')"} becomes
 * {"taskToken":"$input.params('token')"}) and that text is the template, so it means what
 * the same text would mean as an API Gateway mapping template.
 */
#include "base/alloc.h"
#include "base/json.h"
#include "project/project_int.h"

#include <stdlib.h>
#include <string.h>

void project__apply_routes(project_runtime *rt, const project *p)
{
    const project_services *svc = project__services(rt);
    if (svc->routes == NULL) {
        if (p->n_routes > 0)
            server_log(svc->srv, SERVER_LOG_WARN, "project.apply",
                       "%zu routes declared but this server serves no routes: not applied",
                       p->n_routes);
        return;
    }
    route_set *s = route_set_new();
    for (size_t i = 0; i < p->n_routes; i++) {
        const prj_route *r = &p->routes[i];
        char *text = NULL;
        if (json_is_string(r->request_template))
            text = bt_xstrdup(json_string_value(r->request_template));
        else if (r->request_template)
            text = bt_json_dumps(r->request_template);
        route_def d = {
            .method = r->method,
            .path = r->path,
            .function = r->function,
            .confirm = r->confirm,
            .proxy = r->proxy,
            .template_text = text,
        };
        bt_err err = {0};
        if (route_set_add(s, &d, &err) != 0) {
            char *what = bt_xasprintf("%s %s", r->method, r->path);
            char *why = bt_xasprintf("request_template: %s", err.msg);
            project__failed(rt, "route", what, why);
            free(what);
            free(why);
        }
        free(text);
    }
    server_log(svc->srv, SERVER_LOG_INFO, "project.routes", "routes=%zu", route_set_len(s));
    route_table_replace(svc->routes, s);
}
