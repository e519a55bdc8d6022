// Package ucibridge reads OpenWrt UCI configuration files (/etc/config/*)
// into packages, sections and options, so that `mapehelper up --config
// /etc/config/network --interface NAME` and the status report work
// without netifd, uci(1) or libuci on the machine. It knows the file
// syntax only: what a MAP interface section means is package options'
// job (options.FromUCI), and this package imports nothing of the project
// (TestImportsStdlibOnly).
//
// It is our own small reader rather than github.com/digineo/go-uci because
// that module is not served by the Go module proxy this project builds
// from, and a parser that sits on a router's configuration path must be
// ours to fuzz anyway.
//
// The syntax follows libuci's file parser (file.c in openwrt/uci), read
// for its contract only, and checked against the real uci(1) by the
// `libuci` build-tagged test (make ucibridge-libuci):
//
//   - statements `package NAME`, `config TYPE ['NAME']`,
//     `option NAME 'VALUE'`, `list NAME 'VALUE'`; the command words may be
//     abbreviated to their first letter (p, c, o, l);
//   - arguments are single-quoted (no escapes; may span lines),
//     double-quoted (backslash takes the next character literally;
//     may span lines) or bare words (backslash takes the next character
//     literally); adjacent pieces concatenate, as in 'a'"b"c;
//   - a backslash before the end of a line joins the next line to the
//     current argument (leading blanks there end it);
//   - '#' outside quotes drops the rest of the line;
//   - section and option names are letters, digits and '_'; section types
//     are printable ASCII without spaces; package names also allow '-';
//   - an option set to the empty string is not set, and leaves an earlier
//     value alone (uci_set during file parsing); `list` after `option` of the same name turns the value into the
//     first list item; `option` after `list` replaces the list;
//   - a named section that appears again is the same section (its options
//     merge); declaring it again with another type is an error, as with
//     libuci's strict mode (uci's default).
//
// libuci reads a fixed number of arguments per statement plus one that
// must be empty, and whatever follows on the line is the next statement.
// Its ';' handling follows from that and is reproduced as is, because
// netifd sees the file through libuci: `config a 'b'; option x '1'` and
// `option x 1 ;option y 2` hold two statements, but a ';' right after a
// bare word (`config a b; option x 1`) loses the rest of the line, and a
// ';' or an empty quoted argument just before the end of a line is an
// error.
//
// Deliberate differences, each to fail clearly rather than guess: a NUL
// byte is an error (libuci silently truncates the line there); a `package`
// statement after the first section is an error, because one file is one
// package here (libuci would start a second package, which only `uci
// import` uses).
//
// Anonymous sections are addressed as `@type[index]` (negative indexes
// count from the end), like uci's extended syntax; uci's generated
// cfgXXXXXX names are not reproduced.
package ucibridge
