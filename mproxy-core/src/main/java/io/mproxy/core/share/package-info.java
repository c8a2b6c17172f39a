/**
 * The fleet's share of a global RU budget, as pure arithmetic: no I/O, no threads, no clock of its
 * own. The gossip module feeds it what it heard and applies what it returns; the simulator runs
 * the same code with hundreds of virtual nodes.
 */
package io.mproxy.core.share;
