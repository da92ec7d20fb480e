#ifndef FLEET_CLIBSSH2_SHIM_H
#define FLEET_CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#endif
