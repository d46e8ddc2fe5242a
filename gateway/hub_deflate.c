/* hub_deflate.c - permessage-deflate (RFC 7692) on the hub's sockets, through libwebsockets 4.1.6's
 * own extension, with what that version gets wrong on a server kept right (docs/decisions.md,
 * "Compression is bounded"):
 *
 * - it inflates straight from the loop's shared read buffer and, when a message inflates to more
 *   than one 1 KiB piece, keeps pointing into that buffer until the next piece, by which time
 *   another socket's read may have overwritten it: the wrapper below gives it a copy of its own
 *   for each socket;
 * - it deflates straight from the caller's message and may still be reading it after lws_write
 *   returns: the hub keeps each message until the socket's next writeable (gw_hub_deflate_hold);
 * - it takes its deflate and inflate settings from the slots a client's would use
 *   (gw_hub_deflate_bound).
 */
#include "hub_int.h"

#include "core/xalloc.h"
#include "routes/ws_admit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* permessage-deflate's zlib state per socket, allocated by libwebsockets at the socket's first
 * compressed message: a deflater of at most 2^13 window bits at memory level 7 (96 KiB) and an
 * inflater of 2^15 (the client may use that; 39 KiB), level 1 (docs/decisions.md). */
enum { DEFLATE_WINDOW_BITS = 13, DEFLATE_MEM_LEVEL = 7, INFLATE_WINDOW_BITS = 15 };

/* What lws 4.1.6 passes its extensions for a payload (its private lws_ext_pm_deflate_rx_ebufs):
 * the bytes in, and where the bytes out go. */
struct ext_payload {
    struct lws_tokens in;
    struct lws_tokens out;
};

static int pm_deflate(struct lws_context *context, const struct lws_extension *ext, struct lws *wsi,
                      enum lws_extension_callback_reasons reason, void *user, void *in, size_t len)
{
    struct client *c = reason == LWS_EXT_CB_PAYLOAD_RX ? gw_hub_client_of(lws_wsi_user(wsi)) : NULL;
    struct ext_payload *payload = in;
    /* New compressed bytes come only once the last ones are all inflated: one copy per socket. */
    if (c && payload && payload->in.token && payload->in.len > 0) {
        c->inflating.len = 0;
        gw_strbuf_add(&c->inflating, (const char *)payload->in.token, (size_t)payload->in.len);
        payload->in.token = (unsigned char *)c->inflating.data;
    }
    return lws_extension_callback_pm_deflate(context, ext, wsi, reason, user, in, len);
}

const struct lws_extension gw_hub_extensions[] = {
    {"permessage-deflate", pm_deflate,
     "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
    {NULL, NULL, NULL},
};

/* Bounds the zlib state of a socket that negotiated permessage-deflate (none otherwise), and keeps
 * to what the client asked for. lws 4.1.6 runs its deflate extension as a client's on a vhost that
 * does not listen, as the hub's does: it deflates with the client_max_window_bits slot and starts
 * each message afresh by client_no_context_takeover, and inflates with server_max_window_bits and
 * starts afresh by server_no_context_takeover. So the slots are set the other way round: enoki's
 * deflater gets the client's server_max_window_bits and server_no_context_takeover, and its
 * inflater the whole window, kept from message to message (right whatever the client does). */
void gw_hub_deflate_bound(struct client *c)
{
    static const char ext[] = "permessage-deflate";
    if (!c->hub->config->websocket_deflate)
        return;
    char offer[512] = "";
    if (lws_hdr_copy(c->wsi, offer, sizeof(offer), WSI_TOKEN_EXTENSIONS) < 0)
        offer[0] = '\0';
    struct gw_ws_deflate_terms terms;
    gw_ws_deflate_terms(offer, DEFLATE_WINDOW_BITS, &terms);
    char bits[8];
    snprintf(bits, sizeof(bits), "%d", terms.window_bits);
    if (lws_set_extension_option(c->wsi, ext, "client_max_window_bits", bits) < 0)
        return; /* not negotiated */
    c->deflate = true;
    lws_set_extension_option(c->wsi, ext, "client_no_context_takeover",
                             terms.fresh_window ? "1" : "0");
    snprintf(bits, sizeof(bits), "%d", INFLATE_WINDOW_BITS);
    lws_set_extension_option(c->wsi, ext, "server_max_window_bits", bits);
    lws_set_extension_option(c->wsi, ext, "server_no_context_takeover", "0");
    snprintf(bits, sizeof(bits), "%d", DEFLATE_MEM_LEVEL);
    lws_set_extension_option(c->wsi, ext, "mem_level", bits);
}

void gw_hub_deflate_hold(struct client *c, struct gw_hub_frame *f)
{
    gw_hub_frame_unref(c->deflating);
    /* Without the extension lws has copied what it could not send at once: nothing to keep (an
     * idle socket would otherwise keep its last frame). */
    c->deflating = c->deflate ? f : NULL;
    if (!c->deflate)
        gw_hub_frame_unref(f);
}
