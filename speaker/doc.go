// Package speaker is the glue of the speaker binary: it watches Services, EndpointSlices, Nodes and the
// configuration, asks the pure deciders (internal/config, internal/election) what this node must announce,
// and drives the layer-2 Announcer accordingly. It writes the speaker's ConfigurationState, the
// ServiceL2Status objects of the Services this node announces, and the nodeAssigned events.
//
// Two rules shape it. An invalid new configuration is reported and otherwise ignored: the previous valid one
// stays in force, so a bad edit never withdraws a working announcement. And announcements live in memory
// only: while the API server is unreachable, the speaker goes on answering for what it owns.
//
// Decisions belong in internal/; this package must not grow any.
package speaker
