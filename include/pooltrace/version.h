/* SPDX-License-Identifier: MIT */
#ifndef POOLTRACE_VERSION_H
#define POOLTRACE_VERSION_H
/* Keep in step with project(VERSION) in CMakeLists.txt. */
#define PT_VERSION_STRING "0.1.0"
#endif
