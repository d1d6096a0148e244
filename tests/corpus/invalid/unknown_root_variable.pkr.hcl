# expect: TODO
locals {
  region = settings.region
}
