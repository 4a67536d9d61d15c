/* SPDX-License-Identifier: Apache-2.0 */
#ifndef LB_VERSION_H
#define LB_VERSION_H

#ifndef LB_VERSION
#define LB_VERSION "0.1.0"
#endif

#endif
