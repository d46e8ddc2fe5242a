/* status_page.h - the live status page at GATEWAY.status_path (docs/status.md): the page itself
 * (static/status.html from GATEWAY.static_dir) and <status_path>/data, one JSON object with the
 * broker's state, uptime, version, the config generation, in-flight calls, open sockets, and per
 * route and websocket method the request rate, error rate, p50 and p99 over the last minutes, and
 * the busiest channels.
 *
 * It keeps the numbers too (core/live_stats stores): the HTTP side counts each finished request
 * (gw_status_page_note_http), the hub each answered frame and each channel's subscribers and
 * messages. One per process, loop thread only; every note on a NULL page is a no-op.
 */
#ifndef ENOKI_STATUS_PAGE_H
#define ENOKI_STATUS_PAGE_H

#include "gateway/generation.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct gw_status_page;
struct gw_request;
struct gw_rpc;
struct gw_hub;

/* The path of the JSON under status_path. */
#define GW_STATUS_DATA "/data"

/* The cookie that may carry the status page's credential when GATEWAY.auth.cookie is not set. */
#define GW_STATUS_COOKIE "enoki_status_token"

/* rpc is borrowed and outlives the page. */
struct gw_status_page *gw_status_page_new(struct gw_rpc *rpc);
void gw_status_page_free(struct gw_status_page *page);

/* GATEWAY.workers (docs/workers.md): the page shows the totals of every worker: it publishes its
 * numbers into share (taken) once a second on loop, takes over what a predecessor in its slot
 * published, and adds the other workers' when it answers. http (borrowed) gives the gauges. */
struct gw_status_share;
struct gw_http;
void gw_status_page_share(struct gw_status_page *page, uv_loop_t *loop,
                          struct gw_status_share *share, const struct gw_http *http);

/* Stops publishing (at shutdown, before the loop ends); no-op without workers. */
void gw_status_page_stop(struct gw_status_page *page);

/* The hub whose open sockets are shown (borrowed; NULL: none). */
void gw_status_page_set_hub(struct gw_status_page *page, const struct gw_hub *hub);

/* A generation becomes current: each of its routes gets its series, found by "<methods> <rule>",
 * so that a route that stays across a reload keeps its numbers; the series of routes that are gone
 * are dropped. Fills gen->route_stats and gen->stats_epoch. */
void gw_status_page_bind(struct gw_status_page *page, struct gw_generation *gen);

/* A request finished at now_ns: counted in the HTTP totals and, for a route, in its series. An
 * error is a status of 500 or more, or a call that ended in anything but a result
 * (req->call_failed). The status page's own requests are not counted. */
void gw_status_page_note_http(struct gw_status_page *page, const struct gw_request *req,
                              uint64_t now_ns);

/* A websocket frame answered at now_ns, begun at start_ns: method is the frame's method (an
 * unknown one or a malformed frame: "(unknown)", "(malformed)"); failed: the call ended in
 * anything but a result. */
void gw_status_page_note_ws(struct gw_status_page *page, const char *method, uint64_t start_ns,
                            uint64_t now_ns, bool failed);

/* A socket subscribed to channel (delta 1) or left it (-1); a message delivered on it to this
 * process's subscribers. */
void gw_status_page_note_subscribers(struct gw_status_page *page, const char *channel, int delta);
void gw_status_page_note_message(struct gw_status_page *page, const char *channel);

/* Whether the page and its JSON ask for the admin credential: when GATEWAY.auth.jwt or
 * GATEWAY.admin_token is set. */
bool gw_status_page_protected(const struct gw_config *config);

/* Whether url is the page or its JSON under config's status_path. */
bool gw_status_page_owns(const struct gw_config *config, const char *url);

/* Whether a refused request for the page (not its JSON) comes from a browser (Accept: text/html):
 * then it is answered with gw_status_page_login. */
bool gw_status_page_wants_login(const struct gw_request *req);

/* Fills req->response with status (401 or 403) and a small HTML form, holding no data, that keeps
 * the token typed in the page's cookie (SameSite=Strict, Path=status_path) and reloads; message
 * says why (escaped). */
void gw_status_page_login(struct gw_request *req, int status, const char *message);

/* Answers req for url (gw_status_page_owns): GET or HEAD, else 405. */
void gw_status_page_answer(struct gw_status_page *page, struct gw_request *req, const char *url);

#endif
