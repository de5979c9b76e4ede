/* SPDX-License-Identifier: MIT */
#include "pooltrace/error.h"

const char *pt_strerror(int code)
{
	switch (code) {
	case PT_OK:
		return "success";
#define PT_ERR_TEXT_(name, text) \
	case PT_E##name:         \
		return text;
		PT_ERRNO_MAP(PT_ERR_TEXT_)
#undef PT_ERR_TEXT_
	default:
		return "unknown error";
	}
}

const char *pt_err_name(int code)
{
	switch (code) {
	case PT_OK:
		return "PT_OK";
#define PT_ERR_NAME_(name, text) \
	case PT_E##name:         \
		return "PT_E" #name;
		PT_ERRNO_MAP(PT_ERR_NAME_)
#undef PT_ERR_NAME_
	default:
		return "PT_E?";
	}
}
