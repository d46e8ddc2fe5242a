/* probe.h - `enoki --probe URL`: one plain HTTP GET with a short deadline, for a container's
 * HEALTHCHECK without curl. */
#ifndef ENOKI_PROBE_H
#define ENOKI_PROBE_H

/* GETs url (http://host[:port]/path) and prints "<url>: <status>"; returns 0 on a 2xx, 1 when
 * there is no answer or another status, 2 when url is not understood. */
int gw_probe_url(const char *url);

#endif
