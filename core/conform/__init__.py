"""Conform: probe a generated clip, plan the one transcode to the slot, execute it."""
