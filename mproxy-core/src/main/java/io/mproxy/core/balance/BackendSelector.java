package io.mproxy.core.balance;

import java.util.List;

/** Picks the backend for one request among the eligible ones; null when there is none. */
public interface BackendSelector {

  Backend select(List<Backend> eligible);
}
