import type { FeatureFactory } from "./feature.js";
import { binFeature } from "./bin.js";
import { manholeFeature } from "./manhole.js";
import { binAccessFeature } from "./bin-access.js";
import { presenceFeature } from "./presence.js";
import { trafficFeature } from "./traffic.js";

export type { ClaimedInput, Feature, FeatureContext, FeatureFactory } from "./feature.js";

/** Every feature a device can have, in start order. Add new capabilities here. */
export const FEATURES: readonly FeatureFactory[] = [trafficFeature, manholeFeature, binFeature, presenceFeature, binAccessFeature];
