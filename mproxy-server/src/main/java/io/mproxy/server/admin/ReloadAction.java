package io.mproxy.server.admin;

/**
 * Reloads the configuration file for {@code POST /api/reload}. May block (it reads and parses
 * the file): the admin server calls it on its own reload thread, never on an event loop, and
 * one reload at a time. The implementation counts the reload in
 * {@code mproxy_config_reloads_total} (file-watch reloads do not pass through the admin server).
 */
@FunctionalInterface
public interface ReloadAction {

  ReloadResult reload();
}
