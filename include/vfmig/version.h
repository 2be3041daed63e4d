/* SPDX-License-Identifier: GPL-2.0 */
/* vfmig's version: every JSON document the tools print carries it as "version". */
#ifndef VFMIG_VERSION_H
#define VFMIG_VERSION_H

#define VFMIG_VERSION "0.5.0"

#endif
