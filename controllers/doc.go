// Package controllers holds the operator's reconcilers: one root kind per reconciler (<Kind>Reconciler with
// SetupWithManager in <kind>_controller.go). Decisions are made in the pure packages under internal/; the
// reconcilers fetch, call them, apply the result with server-side apply and write status.
package controllers
