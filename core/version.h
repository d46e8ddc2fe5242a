/* version.h - enoki's version: `enoki --version`, the start-up line, and the client property
 * "version" the broker shows for enoki's connections. */
#ifndef ENOKI_VERSION_H
#define ENOKI_VERSION_H

#define GW_VERSION "0.1.0"

#endif
