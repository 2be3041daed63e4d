/* SPDX-License-Identifier: GPL-2.0 */
/* The one version string every JSON object the tools print carries as "version". */
#ifndef VFMIG_VERSION_H
#define VFMIG_VERSION_H

#define VFMIG_VERSION "0.3.0"

#endif
